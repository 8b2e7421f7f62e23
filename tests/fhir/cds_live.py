"""Helpers for the live CDS Hooks tests: keys and signed JWTs, the service in a subprocess,
and a tiny fake FHIR server (all on 127.0.0.1, bounded, stopped by the tests)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISS_EC = "https://ehr-ec.example.org"
ISS_RSA = "https://ehr-rsa.example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Keys:
    """An ES384 key and an RS384 key, each with its public JWKS."""

    def __init__(self) -> None:
        self.ec = ec.generate_private_key(ec.SECP384R1())
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        def pub(key: Any, kid: str, alg: str) -> dict[str, Any]:
            d = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
            return {**d, "kid": kid, "alg": alg, "use": "sig"}

        return {ISS_EC: {"keys": [pub(self.ec, "ec-1", "ES384")]},
                ISS_RSA: {"keys": [pub(self.rsa, "rsa-1", "RS384")]}}  # fmt: skip

    def token(self, aud: str, *, alg: str = "ES384", iss: str | None = None,
              exp_in: int = 300, jti: str | None = None, key: Any = None) -> str:  # fmt: skip
        now = int(time.time())
        claims = {"iss": iss or (ISS_EC if alg == "ES384" else ISS_RSA), "aud": aud,
                  "exp": now + exp_in, "iat": now, "jti": jti or str(uuid.uuid4()),
                  "sub": "client-1"}  # fmt: skip
        signer = key or (self.ec if alg == "ES384" else self.rsa)
        kid = "ec-1" if alg == "ES384" else "rsa-1"
        return jwt.encode(claims, signer, algorithm=alg, headers={"kid": kid})


@contextmanager
def cds_server(tmp: Path, keys: Keys, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``python -m clotsafe.web.cds.run`` and yield its base URL; stop it afterwards."""
    issuers = tmp / "issuers.json"
    issuers.write_text(json.dumps(keys.jwks()))
    port = free_port()
    env = {**os.environ, "CLOTSAFE_CDS_ISSUERS": str(issuers),
           "CLOTSAFE_CDS_DB": str(tmp / "cds.sqlite3"),
           "DJANGO_SETTINGS_MODULE": "clotsafe.web.cds.standalone_settings",
           **(extra_env or {})}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "clotsafe.web.cds.run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the CDS service exited at start")
        try:
            if httpx.get(f"{base}/cds-services", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the CDS service did not start within 30 s")


class FakeFhir:
    """Answers GET queries from a dict of resources by type; records the Authorization headers."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.resources = resources
        self.auth_headers: list[str | None] = []
        self.queries: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.auth_headers.append(self.headers.get("Authorization"))
                fake.queries.append(self.path)
                body = json.dumps(fake.answer(self.path)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str) -> Any:
        query = path.removeprefix("/fhir/")
        kind = query.split("?")[0].split("/")[0]
        if "?" not in query:
            return next(r for r in self.resources if r["resourceType"] == kind)
        hits = [{"resource": r} for r in self.resources if r["resourceType"] == kind]
        return {"resourceType": "Bundle", "type": "searchset", "entry": hits}

    def __enter__(self) -> FakeFhir:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
