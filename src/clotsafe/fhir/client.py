"""Fetch what prefetch did not carry from the EHR's ``fhirServer`` with its bearer token."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import httpx  # type: ignore[import-not-found, unused-ignore]

from clotsafe.fhir.errors import FhirInputError, FhirServerError, NotJson, fhir_json, join, problem

MAX_PAGES = 5


@dataclass
class FhirClient:
    """A small read-only FHIR client: GET one query (following ``next`` links, bounded)."""

    base_url: str
    token: str | None = None
    timeout: float = 5.0
    transport: httpx.BaseTransport | None = None

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/fhir+json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def get(self, query: str) -> Any:
        """The resource or searchset Bundle a relative query returns (pages joined)."""
        url = f"{self.base_url.rstrip('/')}/{query.lstrip('/')}"
        with httpx.Client(timeout=self.timeout, transport=self.transport,
                          headers=self._headers()) as http:  # fmt: skip
            first = _get_json(http, url, query)
            if not (isinstance(first, dict) and first.get("resourceType") == "Bundle"):
                return first
            entries = list(first.get("entry") or ())
            page, pages = first, 1
            while (nxt := _next_link(page)) and pages < MAX_PAGES:
                page = _get_json(http, nxt, query)
                entries += list(page.get("entry") or ()) if isinstance(page, dict) else []
                pages += 1
            return {**first, "entry": entries}


def _get_json(http: httpx.Client, url: str, query: str) -> Any:
    try:
        resp = http.get(url)
    except httpx.HTTPError as exc:
        raise FhirServerError(
            [
                problem(
                    f"fhirServer/{query}",
                    "fhir_server_unreachable",
                    f"the FHIR server could not be reached: {exc}",
                )
            ]
        ) from None
    if resp.status_code == 404 and query.startswith("Patient/"):
        return None
    if resp.status_code >= 400:
        raise FhirServerError([problem(f"fhirServer/{query}", "fhir_server_error",
                                       f"the FHIR server answered HTTP {resp.status_code}",
                                       resp.status_code)])  # fmt: skip
    try:
        return fhir_json(resp.content)
    except NotJson:
        raise FhirServerError(
            [problem(f"fhirServer/{query}", "invalid_json", "the FHIR server did not answer JSON")]
        ) from None
    except FhirInputError as exc:  # a key named twice (duplicate_key, POLICY 1.1 §8.1)
        where = f"fhirServer/{query}"
        raise FhirServerError(
            [replace(e, field=join(where, e.field)) for e in exc.errors]
        ) from None


def _next_link(bundle: Any) -> str | None:
    for link in bundle.get("link") or () if isinstance(bundle, dict) else ():
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) else None
    return None
