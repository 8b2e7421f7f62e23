"""The FHIR client never sends the EHR's bearer token anywhere but the EHR's fhirServer, only
fetches from https and public addresses unless configured, and says one thing for every
connection failure (issue 10 §3)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import httpx
import pytest

from clotsafe.fhir.client import (
    NOT_HTTPS,
    UNREACHABLE,
    FhirClient,
    GuardedTransport,
    ServerPolicy,
)
from clotsafe.fhir.errors import FhirServerError

BASE = "https://ehr.example.org/fhir"
TOKEN = "secret-token"


class Recorder:
    """A fake network: pages of a searchset whose ``next`` links are given; records who got the
    Authorization header."""

    def __init__(self, links: list[str]) -> None:
        self.links = links
        self.seen: list[tuple[str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((str(request.url), request.headers.get("Authorization")))
        n = len(self.seen)
        page: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                                "entry": [{"resource": {"resourceType": "Condition",
                                                        "id": f"c{n}"}}]}  # fmt: skip
        if n <= len(self.links):
            page["link"] = [{"relation": "next", "url": self.links[n - 1]}]
        return httpx.Response(200, json=page)


def _client(rec: Recorder, base: str = BASE) -> FhirClient:
    return FhirClient(base, TOKEN, transport=httpx.MockTransport(rec))


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.net/fhir/Condition?page=2",
        "http://ehr.example.org/fhir/Condition?page=2",  # another scheme: another origin
        "https://ehr.example.org:8443/fhir/Condition?page=2",  # another port
        "https://ehr.example.org.evil.example.net/fhir/Condition?page=2",
        "//evil.example.net/fhir/Condition?page=2",  # scheme-relative
        "https://user@evil.example.net/",
    ],
)
def test_a_next_link_off_the_servers_origin_is_refused_and_gets_no_token(link: str) -> None:
    """A ``next`` link to another host used to receive ``Bearer …`` (6 times in the fuzz).
    Now it is never requested: the call fails (412 at the service) rather than silently
    dropping the rest of the record."""
    rec = Recorder([link] * 6)
    with pytest.raises(FhirServerError) as exc:
        _client(rec).get("Condition?patient=p1")
    assert exc.value.errors[0].code == "fhir_server_error"
    assert "another host" in exc.value.errors[0].message
    assert [url for url, _ in rec.seen] == [f"{BASE}/Condition?patient=p1"]
    assert all(url.startswith(BASE) for url, auth in rec.seen if auth)


def test_next_links_on_the_same_origin_are_followed_with_the_token() -> None:
    """Same origin (absolute or relative links): pages are joined, each with the token."""
    rec = Recorder([f"{BASE}/Condition?page=2", "/fhir/Condition?page=3"])
    got = _client(rec).get("Condition?patient=p1")
    assert [e["resource"]["id"] for e in got["entry"]] == ["c1", "c2", "c3"]
    assert [auth for _, auth in rec.seen] == [f"Bearer {TOKEN}"] * 3


def test_redirects_are_not_followed() -> None:
    """A redirect is an error, never followed (the token would go with it)."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://evil.example.net/x"})

    with pytest.raises(FhirServerError) as exc:
        FhirClient(BASE, TOKEN, transport=httpx.MockTransport(answer)).get("Patient/p1")
    assert exc.value.errors[0].message == "the FHIR server answered HTTP 302"
    assert seen == [f"{BASE}/Patient/p1"]


def _guarded(policy: ServerPolicy, resolved: list[str], monkeypatch: pytest.MonkeyPatch,
             ) -> tuple[GuardedTransport, list[httpx.Request]]:  # fmt: skip
    """A guarded transport whose DNS answers ``resolved`` and whose network records requests."""
    sent: list[httpx.Request] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in resolved]  # fmt: skip

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def network(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"resourceType": "Patient", "id": "p1"})

    return GuardedTransport(policy, httpx.MockTransport(network)), sent


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.5", "172.16.9.9", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1"],
)  # fmt: skip
def test_loopback_private_and_link_local_addresses_are_refused(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fhirServer that resolves to loopback, private, link-local (cloud metadata), shared or
    multicast addresses is never connected to, with the one 'unreachable' message."""
    transport, sent = _guarded(ServerPolicy(), [address], monkeypatch)
    with pytest.raises(FhirServerError) as exc:
        FhirClient(BASE, TOKEN, transport=transport).get("Patient/p1")
    assert (exc.value.errors[0].code, exc.value.errors[0].message) == (
        "fhir_server_unreachable",
        UNREACHABLE,
    )
    assert sent == []


def test_one_private_address_among_public_ones_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """All the addresses a name resolves to must be allowed, not just the first."""
    transport, sent = _guarded(ServerPolicy(), ["93.184.216.34", "10.0.0.1"], monkeypatch)
    with pytest.raises(FhirServerError):
        FhirClient(BASE, TOKEN, transport=transport).get("Patient/p1")
    assert sent == []


def test_a_public_address_is_connected_to_as_checked_with_the_hosts_tls_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection goes to the address that was checked (no second DNS answer), with the
    Host header and TLS name of the fhirServer."""
    transport, sent = _guarded(ServerPolicy(), ["93.184.216.34"], monkeypatch)
    got = FhirClient(BASE, TOKEN, transport=transport).get("Patient/p1")
    assert got == {"resourceType": "Patient", "id": "p1"}
    (req,) = sent
    assert req.url.host == "93.184.216.34" and req.headers["Host"] == "ehr.example.org"
    assert req.extensions["sni_hostname"] == "ehr.example.org"


def test_configured_networks_and_http_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An EHR on the hospital network is allowed by naming its network; http only when
    configured (tests)."""
    policy = ServerPolicy.from_strings(True, "10.20.0.0/16, 127.0.0.0/8")
    assert policy.networks == (ipaddress.ip_network("10.20.0.0/16"),
                               ipaddress.ip_network("127.0.0.0/8"))  # fmt: skip
    transport, sent = _guarded(policy, ["10.20.3.4"], monkeypatch)
    FhirClient("http://ehr.internal/fhir", TOKEN, transport=transport).get("Patient/p1")
    assert len(sent) == 1
    transport, sent = _guarded(policy, ["10.21.0.1"], monkeypatch)
    with pytest.raises(FhirServerError):
        FhirClient("http://ehr.internal/fhir", TOKEN, transport=transport).get("Patient/p1")


def test_plain_http_is_refused_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without configuration a fhirServer must be https (the token would travel in clear)."""
    transport, sent = _guarded(ServerPolicy(), ["93.184.216.34"], monkeypatch)
    with pytest.raises(FhirServerError) as exc:
        FhirClient("http://ehr.example.org/fhir", TOKEN, transport=transport).get("Patient/p1")
    assert (exc.value.errors[0].code, exc.value.errors[0].message) == (
        "fhir_server_refused",
        NOT_HTTPS,
    )
    assert sent == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_connection_failure_gives_the_same_message() -> None:
    """Refused port, unknown host, policy refusal: one message, so answers do not tell internal
    ports or hosts apart (they used to quote the OS error)."""
    allow_local = ServerPolicy(allow_http=True, networks=(ipaddress.ip_network("127.0.0.0/8"),))
    cases = [
        FhirClient(f"http://127.0.0.1:{_closed_port()}/fhir", TOKEN, timeout=2, policy=allow_local),
        FhirClient("https://no-such-host.invalid/fhir", TOKEN, timeout=2),
        FhirClient("https://127.0.0.1/fhir", TOKEN, timeout=2),
    ]
    messages = set()
    for client in cases:
        with pytest.raises(FhirServerError) as exc:
            client.get("Patient/p1")
        messages.add((exc.value.errors[0].code, exc.value.errors[0].message))
    assert messages == {("fhir_server_unreachable", UNREACHABLE)}
