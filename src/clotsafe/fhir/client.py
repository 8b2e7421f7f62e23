"""Fetch what prefetch did not carry from the EHR's ``fhirServer`` with its bearer token.

The token is the EHR's, issued for its FHIR server only, so:

* every URL fetched must be on the ``fhirServer``'s origin (scheme, host, port): a ``next``
  link elsewhere is refused (``fhir_server_error``), never followed, and redirects are never
  followed either; the ``Authorization`` header is set per request, after that check;
* the network goes through :class:`GuardedTransport`: ``https`` only, and only to public
  addresses, unless a :class:`ServerPolicy` allows plain http (tests) or named networks (an
  EHR on the hospital's private network). Names are resolved once per request and the
  connection goes to the address that was checked (the TLS name stays the host's), so a DNS
  answer cannot change between the check and the connection;
* every failure to connect -- refused, timed out, no such host, an address the policy does not
  allow -- gives the one message :data:`UNREACHABLE`, so answers cannot be used to map ports
  or hosts behind the service. The reason goes to the log (never the token).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass, field, replace
from typing import Any

import httpx  # type: ignore[import-not-found, unused-ignore]

from clotsafe.fhir.errors import FhirInputError, FhirServerError, NotJson, fhir_json, join, problem

MAX_PAGES = 5
#: largest answer read from the FHIR server, per page
MAX_ANSWER_BYTES = 20 * 1024 * 1024
UNREACHABLE = "the FHIR server could not be reached"
NOT_HTTPS = "fhirServer must be an https URL"

log = logging.getLogger(__name__)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    """Which ``fhirServer`` URLs clotsafe may fetch from.

    By default: https, and addresses that are globally routable only (no loopback, private,
    link-local, shared, multicast or reserved address). ``allow_http`` is for tests;
    ``networks`` lists networks allowed besides (for example ``10.20.0.0/16`` for an EHR inside
    the hospital)."""

    allow_http: bool = False
    networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def from_strings(cls, allow_http: bool, networks: str | tuple[str, ...] = ()) -> ServerPolicy:
        items = networks.split(",") if isinstance(networks, str) else networks
        nets = tuple(ipaddress.ip_network(n.strip(), strict=False) for n in items if n.strip())
        return cls(allow_http, nets)

    def allows(self, address: IpAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in net for net in self.networks):
            return True
        return address.is_global and not (address.is_multicast or address.is_reserved
                                           or address.is_unspecified)  # fmt: skip


class ServerRefused(httpx.TransportError):  # type: ignore[misc, unused-ignore]
    """The policy does not allow this URL; ``public`` is what the EHR may be told."""

    def __init__(self, reason: str, public: str = UNREACHABLE) -> None:
        super().__init__(reason)
        self.public = public


class GuardedTransport(httpx.BaseTransport):  # type: ignore[misc, unused-ignore]
    """The network, behind a :class:`ServerPolicy` (see the module docstring)."""

    def __init__(self, policy: ServerPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "https" and not (url.scheme == "http" and self.policy.allow_http):
            raise ServerRefused(f"scheme {url.scheme!r} refused", NOT_HTTPS)
        address = self._address(url.host, url.port or (443 if url.scheme == "https" else 80))
        request.url = url.copy_with(host=str(address))
        request.extensions = {**request.extensions, "sni_hostname": url.host}
        return self.inner.handle_request(request)  # type: ignore[no-any-return, unused-ignore]

    def _address(self, host: str, port: int) -> IpAddress:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise ServerRefused(f"cannot resolve: {type(exc).__name__}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise ServerRefused("no address")
        refused = [a for a in addresses if not self.policy.allows(a)]
        if refused:
            raise ServerRefused(f"address {refused[0]} is not allowed by the fhirServer policy")
        return addresses[0]

    def close(self) -> None:
        self.inner.close()


Origin = tuple[str, str, int | None]


def origin(url: httpx.URL) -> Origin:
    port = url.port or {"https": 443, "http": 80}.get(url.scheme)
    return (url.scheme, url.host.lower(), port)


@dataclass
class FhirClient:
    """A small read-only FHIR client: GET one query (following ``next`` links on the same
    origin, bounded). ``transport`` replaces the network (tests); by default the network is
    guarded by ``policy``."""

    base_url: str
    token: str | None = None
    timeout: float = 5.0
    transport: httpx.BaseTransport | None = None
    policy: ServerPolicy = field(default_factory=ServerPolicy)

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/fhir+json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def get(self, query: str) -> Any:
        """The resource or searchset Bundle a relative query returns (pages joined)."""
        where = f"fhirServer/{query}"
        try:
            base = httpx.URL(self.base_url.rstrip("/") + "/")
            url = base.join(query.lstrip("/"))
        except (httpx.InvalidURL, ValueError, TypeError):
            raise _refused(where, "fhirServer is not a URL") from None
        home = origin(base)
        transport = self.transport or GuardedTransport(self.policy)
        with httpx.Client(timeout=self.timeout, transport=transport,
                          follow_redirects=False) as http:  # fmt: skip
            first = self._get_json(http, url, home, where)
            if not (isinstance(first, dict) and first.get("resourceType") == "Bundle"):
                return first
            entries = _entries(first)
            page, pages = first, 1
            while (nxt := _next_link(page)) and pages < MAX_PAGES:
                page = self._get_json(http, _join(url, nxt, where), home, where)
                entries += _entries(page)
                pages += 1
            return {**first, "entry": entries}

    def _get_json(self, http: httpx.Client, url: httpx.URL, home: Origin, where: str) -> Any:
        if origin(url) != home:  # the token is the fhirServer's, for nowhere else
            raise FhirServerError([problem(where, "fhir_server_error", "the FHIR server "
                                           "linked to another host; clotsafe does not follow "
                                           "it")])  # fmt: skip
        raw, status = _fetch(http, url, self._headers(), where)
        if status == 404 and where.startswith("fhirServer/Patient/"):
            return None
        if status >= 300:
            raise FhirServerError([problem(where, "fhir_server_error",
                                           f"the FHIR server answered HTTP {status}",
                                           status)])  # fmt: skip
        return _decode(raw, where)


def _join(current: httpx.URL, link: str, where: str) -> httpx.URL:
    try:
        return current.join(link)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise FhirServerError([problem(where, "fhir_server_error", "the FHIR server's next "
                                       "link is not a URL")]) from None  # fmt: skip


def _fetch(http: httpx.Client, url: httpx.URL, headers: dict[str, str],
           where: str) -> tuple[bytes, int]:  # fmt: skip
    try:
        with http.stream("GET", url, headers=headers) as resp:
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    too_large = "the FHIR server's answer is too large"
                    raise FhirServerError([problem(where, "fhir_server_error", too_large)])
                chunks.append(chunk)
            return b"".join(chunks), resp.status_code
    except FhirServerError:
        raise
    except ServerRefused as exc:
        log.warning("fhirServer %s refused: %s", url.host, exc)
        raise _refused(where, exc.public) from None
    except (httpx.HTTPError, httpx.InvalidURL, OSError, UnicodeError, ValueError) as exc:
        log.warning("fhirServer %s unreachable: %s", url.host, type(exc).__name__)
        raise _refused(where, UNREACHABLE) from None


def _refused(where: str, message: str) -> FhirServerError:
    code = "fhir_server_unreachable" if message == UNREACHABLE else "fhir_server_refused"
    return FhirServerError([problem(where, code, message)])


def _decode(raw: bytes, where: str) -> Any:
    try:
        return fhir_json(raw)
    except NotJson:
        raise FhirServerError(
            [problem(where, "invalid_json", "the FHIR server did not answer JSON")]
        ) from None
    except FhirInputError as exc:  # a key named twice (duplicate_key, POLICY 1.1 §8.1)
        raise FhirServerError(
            [replace(e, field=join(where, e.field)) for e in exc.errors]
        ) from None


def _entries(bundle: Any) -> list[Any]:
    entry = bundle.get("entry") if isinstance(bundle, dict) else None
    return list(entry) if isinstance(entry, list) else []


def _next_link(bundle: Any) -> str | None:
    links = bundle.get("link") if isinstance(bundle, dict) else None
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) else None
    return None
