"""Kick-off: POST ``Group/<id>/$export`` or ``Patient/$export`` with a Parameters resource.

``Prefer: respond-async`` and ``Accept: application/fhir+json``; ``_type`` is ONE comma-separated
value (some servers reject a repeated ``_type``); each ``--type-filter`` is its own ``_typeFilter``
(a filter may itself hold commas); patients are ``patient`` Reference parameters. When the server
answers 405 to the POST, the same export is asked for with GET and query parameters — except
with patient references, which only a POST can carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

import httpx  # type: ignore[import-not-found, unused-ignore]

from clotsafe.domain import strictjson
from clotsafe.fhir.bulk.errors import BulkError, clean
from clotsafe.fhir.bulk.session import Session

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
NDJSON = "application/fhir+ndjson"
KICKOFF_HEADERS = {"Accept": "application/fhir+json", "Prefer": "respond-async"}
KICKOFF_RETRY = frozenset({429, 503})  # the server did not start anything: safe to ask again


@dataclass(frozen=True)
class ExportRequest:
    """What to export: a Group, or listed patients; types, since, type filters."""

    group: str | None
    patients: tuple[str, ...]
    types: tuple[str, ...]
    since: str | None = None
    type_filters: tuple[str, ...] = ()

    def path(self) -> str:
        return f"Group/{quote(self.group, safe='')}/$export" if self.group else "Patient/$export"

    def parameters(self) -> dict[str, Any]:
        """The FHIR Parameters resource of a POST kick-off."""
        params: list[dict[str, Any]] = [{"name": "_outputFormat", "valueString": NDJSON}]
        if self.types:
            params.append({"name": "_type", "valueString": ",".join(self.types)})
        if self.since:
            params.append({"name": "_since", "valueInstant": self.since})
        params += [{"name": "_typeFilter", "valueString": f} for f in self.type_filters]
        params += [
            {"name": "patient", "valueReference": {"reference": f"Patient/{p}"}}
            for p in self.patients
        ]
        return {"resourceType": "Parameters", "parameter": params}

    def query(self) -> list[tuple[str, str]]:
        """The query parameters of a GET kick-off."""
        q = [("_outputFormat", NDJSON)]
        q += [("_type", ",".join(self.types))] if self.types else []
        q += [("_since", self.since)] if self.since else []
        return q + [("_typeFilter", f) for f in self.type_filters]


def kick_off(session: Session, request: ExportRequest) -> str:
    """Start the export; the absolute status URL (Content-Location) the server answered."""
    url = f"{session.base_url.rstrip('/')}/{request.path()}"
    post = {**KICKOFF_HEADERS, "Content-Type": "application/fhir+json"}
    resp = _send(session, "POST", url, headers=post, json=request.parameters())
    if resp.status_code == 405:
        if request.patients:
            raise BulkError(
                "bulk_post_unsupported",
                "the server refused a POST kick-off (405) and patient references can only be "
                "sent by POST; export a --group instead",
            )
        resp = _send(session, "GET", url, headers=KICKOFF_HEADERS, params=request.query())
    if resp.status_code != 202:
        raise BulkError(
            "bulk_kickoff_failed",
            f"the server refused the export: HTTP {resp.status_code}{outcome_text(resp)}",
        )
    location = str(resp.headers.get("Content-Location") or "")
    if not location:
        raise BulkError(
            "bulk_kickoff_failed",
            "the server accepted the export (202) but sent no Content-Location status URL",
        )
    return urljoin(url, location)


def _send(session: Session, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return session.send(
            method,
            url,
            auth=True,
            retry=KICKOFF_RETRY,
            idempotent=False,
            what="the export kick-off",
            **kwargs,
        )
    except httpx.TransportError as exc:
        raise BulkError(
            "bulk_kickoff_failed",
            f"the connection failed after the kick-off was sent ({type(exc).__name__}): the "
            "server may have started an export; check with its operators before starting again",
        ) from None


def outcome_text(resp: httpx.Response) -> str:
    """``: <diagnostics>`` from an OperationOutcome body ('' when there is none)."""
    try:
        body = strictjson.loads(resp.content)
    except (ValueError, strictjson.JsonInputError):
        return ""
    issues = body.get("issue") if isinstance(body, dict) else None
    texts = []
    for issue in issues if isinstance(issues, list) else ():
        if isinstance(issue, dict):
            details = issue.get("details")
            detail = details.get("text") if isinstance(details, dict) else None
            text = issue.get("diagnostics") or detail or issue.get("code")
            texts.append(str(text))
    return f": {clean('; '.join(texts), 300)}" if texts else ""


def transient(resp: httpx.Response) -> bool:
    """An OperationOutcome whose issues are all transient (retry later, the export goes on)."""
    try:
        body = strictjson.loads(resp.content)
    except (ValueError, strictjson.JsonInputError):
        return False
    issues = body.get("issue") if isinstance(body, dict) else None
    codes = [i.get("code") for i in issues or () if isinstance(i, dict)]
    return bool(codes) and all(c in TRANSIENT_CODES for c in codes)


TRANSIENT_CODES = frozenset(
    {"transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled"}
)
