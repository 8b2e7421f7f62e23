"""HTTP for the export: URL checks, origins, and requests that carry the token only home.

The access token is sent ONLY to URLs on the FHIR server's origin (scheme, host, port); a request
that would carry it elsewhere is refused before it is made. 429, 5xx and network failures are
retried with exponential back-off (honouring ``Retry-After``), a bounded number of times.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx  # type: ignore[import-not-found, unused-ignore]

from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.bulk.timing import Backoff, Clock, retry_after

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)  # the request never reached the server
DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_NAMES = frozenset({"localhost"})


class Tokens(Protocol):
    """Where the session gets its bearer token (smart.TokenSource)."""

    def token(self) -> str: ...

    def invalidate(self) -> None: ...


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an absolute URL, the port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """An absolute https URL (plain http only to this machine, for local test servers)."""
    scheme, host, _ = origin(url)
    shown = safe_url(url)
    if scheme not in DEFAULT_PORTS or not host:
        raise BulkError("bulk_bad_option", f"{what} must be an absolute http(s) URL: {shown!r}")
    if scheme == "http" and not _loopback(host):
        raise BulkError(
            "bulk_insecure_url",
            f"{what} {shown!r} is plain http: clotsafe sends credentials and patient data "
            "only over https (http is allowed to localhost/127.0.0.1 for test servers)",
        )
    return url


def safe_url(url: str) -> str:
    """A URL for messages: no query string or fragment (pre-signed file URLs hold secrets)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass
class Session:
    """One httpx client, the FHIR server's base URL, its tokens, the clock and the retry limit."""

    http: httpx.Client
    base_url: str
    tokens: Tokens | None
    clock: Clock
    max_retries: int = 6

    @property
    def home(self) -> tuple[str, str, int]:
        return origin(self.base_url)

    def at_home(self, url: str) -> bool:
        return origin(url) == self.home

    def auth_headers(self, url: str) -> dict[str, str]:
        """``Authorization`` for ``url``; refuses a URL off the FHIR server's origin."""
        if not self.at_home(url):
            raise BulkError(
                "bulk_off_origin",
                f"{safe_url(url)} is not on the FHIR server's origin; the access token is "
                "only ever sent to the FHIR server",
            )
        return {"Authorization": f"Bearer {self.tokens.token()}"} if self.tokens else {}

    def send(
        self,
        method: str,
        url: str,
        *,
        auth: bool,
        headers: Mapping[str, str] | None = None,
        retry: Collection[int] = RETRY_STATUSES,
        what: str = "the FHIR server",
        idempotent: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, retried on ``retry`` statuses and network errors; a new token on 401.

        Not ``idempotent`` (the kick-off): only a failure to connect is retried; any other
        network error is raised, since the server may have acted on the request.
        """
        backoff = Backoff()
        refreshed = False
        while True:
            h = {**(headers or {}), **(self.auth_headers(url) if auth else {})}
            try:
                resp = self.http.request(method, url, headers=h, **kwargs)
            except httpx.TransportError as exc:
                if not idempotent and not isinstance(exc, NOT_SENT):
                    raise
                self.wait_or_give_up(backoff, None, what, f"network error: {type(exc).__name__}")
                continue
            if resp.status_code == 401 and auth and self.tokens and not refreshed:
                self.tokens.invalidate()
                refreshed = True
                continue
            if resp.status_code not in retry:
                return resp
            self.wait_or_give_up(backoff, resp, what, f"HTTP {resp.status_code}")

    def wait_or_give_up(
        self, backoff: Backoff, resp: httpx.Response | None, what: str, why: str
    ) -> float:
        """Sleep for the next back-off (or Retry-After when longer); BulkError past the limit."""
        wait = self.next_wait(backoff, resp, what, why)
        self.clock.sleep(wait)
        return wait

    def next_wait(
        self, backoff: Backoff, resp: httpx.Response | None, what: str, why: str
    ) -> float:
        """Seconds to the next try (back-off, or a longer Retry-After); BulkError past the limit."""
        if backoff.failures >= self.max_retries:
            raise BulkError(
                "bulk_gave_up", f"{what} kept failing ({why}) after {backoff.failures} retries"
            )
        wait = backoff.next()
        if resp is not None:
            wait = max(wait, retry_after(resp.headers.get("Retry-After"), self.clock.now()) or 0)
        return wait
