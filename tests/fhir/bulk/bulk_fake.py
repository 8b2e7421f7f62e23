"""An in-process fake FHIR server with Bulk Data and SMART Backend Services, and a fake clock.

The server checks what a real one would: the client assertion (signature with the registered
public key, ``aud`` = token endpoint, ``iss`` = ``sub`` = client id, ``exp`` within 5 minutes,
``jti`` never seen), a valid unexpired bearer token on every FHIR request, and it records every
request so tests can say which headers went where.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives import serialization

BASE = "https://ehr.example.org/fhir"
TOKEN_URL = "https://auth.example.org/oauth/token"
FILES = "https://files.example.org/exports"
STATUS = f"{BASE}/bulkstatus/job-1"
CLIENT_ID = "clotsafe-bulk-test"

Reply = tuple[int, dict[str, str]] | tuple[int, dict[str, str], Any]


class FakeClock:
    """Wall-clock seconds that move only when the code under test sleeps."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.t += seconds


class BrokenStream(httpx.SyncByteStream):
    """Sends the first bytes of a file, then the connection drops."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[: len(self.data) // 2]
        raise httpx.ReadError("connection reset by peer")


def ndjson(rtype: str, n: int, prefix: str = "") -> bytes:
    return b"".join(
        orjson.dumps({"resourceType": rtype, "id": f"{prefix}{rtype[:3].lower()}{i}"}) + b"\n"
        for i in range(n)
    )


@dataclass
class ServedFile:
    """One file of the export: its manifest entry and how it is served."""

    kind: str
    type: str
    url: str
    body: bytes
    count: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    break_times: int = 0  # the first N downloads drop half-way
    redirect_to: str | None = None  # answer 302 to this URL instead

    def entry(self) -> dict[str, Any]:
        e: dict[str, Any] = {"type": self.type, "url": self.url}
        if self.count is not None:
            e["count"] = self.count
        return e


@dataclass
class FakeBulkServer:
    clock: FakeClock
    public_key: Any
    smart: dict[str, Any] = field(default_factory=dict)
    token_lifetime: int = 300
    post_allowed: bool = True
    status_script: list[Reply] = field(default_factory=list)
    files: list[ServedFile] = field(default_factory=list)
    requires_access_token: bool = True
    content_location: str = STATUS
    location_header: str | None = None  # what Content-Location says (default: the URL above)
    revoke_at_kickoff: bool = False  # every token issued so far stops working at kick-off
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    token_audience: str = TOKEN_URL  # the client assertion's ``aud`` (the token endpoint's URL)
    # what happened
    requests: list[httpx.Request] = field(default_factory=list)
    issued: dict[str, float] = field(default_factory=dict)
    assertions: list[str] = field(default_factory=list)
    jtis: set[str] = field(default_factory=set)
    kickoffs: list[httpx.Request] = field(default_factory=list)
    unauthorized: int = 0
    deleted: bool = False
    _counter: Iterator[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.smart = self.smart or {
            "token_endpoint": TOKEN_URL,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "scopes_supported": ["system/*.rs", "system/Patient.rs"],
            "capabilities": ["client-confidential-asymmetric", "permission-v2"],
        }

    # -- plumbing -------------------------------------------------------------------------------
    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url == f"{BASE}/.well-known/smart-configuration":
            return httpx.Response(200, json=self.smart)
        if url == TOKEN_URL:
            return self._token(request)
        for f in self.files:
            if url == f.url:
                return self._file(request, f)
        if url.startswith(BASE) and not self._authorized(request):
            self.unauthorized += 1
            return httpx.Response(401, json=_outcome("login", "no valid token"))
        if "/$export" in request.url.path:
            return self._kickoff(request)
        if url.split("?")[0] == self.content_location:
            return self._status(request)
        return httpx.Response(404, json=_outcome("not-found", f"no route {url}"))

    def _authorized(self, request: httpx.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        return auth.startswith("Bearer ") and self.issued.get(token, 0) > self.clock.now()

    # -- SMART ----------------------------------------------------------------------------------
    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        assert form["grant_type"] == "client_credentials"
        assert (
            form["client_assertion_type"]
            == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        )
        assertion = form["client_assertion"]
        self.assertions.append(assertion)
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(
            assertion,
            self.public_key,
            algorithms=[header["alg"]],
            audience=self.token_audience,
            options={"verify_exp": False},
        )
        ok = (
            claims["iss"] == claims["sub"] == CLIENT_ID
            and claims["jti"] not in self.jtis
            and 0 < claims["exp"] - self.clock.now() <= 300
            and header.get("kid")
        )
        if not ok:
            return httpx.Response(400, json={"error": "invalid_client"})
        self.jtis.add(claims["jti"])
        token = f"secret-token-{next(self._counter)}-{claims['jti'][:8]}"
        self.issued[token] = self.clock.now() + self.token_lifetime
        return httpx.Response(
            200,
            json={
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": form["scope"],
            },
        )

    # -- Bulk Data ------------------------------------------------------------------------------
    def _kickoff(self, request: httpx.Request) -> httpx.Response:
        self.kickoffs.append(request)
        if request.method == "POST" and not self.post_allowed:
            return httpx.Response(405, json=_outcome("not-supported", "use GET"))
        if self.revoke_at_kickoff:
            self.issued = dict.fromkeys(self.issued, 0.0)
        location = self.location_header or self.content_location
        return httpx.Response(202, headers={"Content-Location": location})

    def _status(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            self.deleted = True
            return httpx.Response(202)
        if self.status_script:
            reply = self.status_script.pop(0)
            body = reply[2] if len(reply) == 3 else None
            return httpx.Response(reply[0], headers=reply[1], json=body)
        return httpx.Response(200, json=self.manifest())

    def manifest(self) -> dict[str, Any]:
        m: dict[str, Any] = {
            "transactionTime": "2026-11-30T06:00:00Z",
            "request": f"{BASE}/Group/g1/$export?_type=Patient,Condition",
            "requiresAccessToken": self.requires_access_token,
            "output": [f.entry() for f in self.files if f.kind == "output"],
            "error": [f.entry() for f in self.files if f.kind == "error"],
        }
        deleted = [f.entry() for f in self.files if f.kind == "deleted"]
        if deleted:
            m["deleted"] = deleted
        return {**m, **self.manifest_extra}

    def _file(self, request: httpx.Request, f: ServedFile) -> httpx.Response:
        on_home = str(request.url).startswith(BASE)
        if on_home and self.requires_access_token and not self._authorized(request):
            self.unauthorized += 1
            return httpx.Response(401)
        if f.redirect_to:
            return httpx.Response(302, headers={"Location": f.redirect_to})
        headers = {"Content-Type": "application/fhir+ndjson", **f.headers}
        if f.break_times > 0:
            f.break_times -= 1
            return httpx.Response(200, headers=headers, stream=BrokenStream(f.body))
        return httpx.Response(200, headers=headers, content=f.body)

    # -- what the tests ask ---------------------------------------------------------------------
    def sent_to(self, prefix: str) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url).startswith(prefix)]

    def file_gets(self) -> list[str]:
        urls = {f.url for f in self.files}
        return [str(r.url) for r in self.requests if str(r.url) in urls]


def pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def standard_files() -> list[ServedFile]:
    return [
        ServedFile("output", "Patient", f"{BASE}/files/p1.ndjson", ndjson("Patient", 3), 3),
        ServedFile("output", "Condition", f"{BASE}/files/c1.ndjson", ndjson("Condition", 4), 4),
        ServedFile("output", "Condition", f"{BASE}/files/c2.ndjson", ndjson("Condition", 2, "b")),
    ]


def _outcome(code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


Factory = Callable[..., FakeBulkServer]
