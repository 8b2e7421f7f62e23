"""Fixtures for the bulk export tests: keys on disk, a fake clock, the fake server, options.

Needs the ``fhir`` extra (httpx, PyJWT, cryptography); skipped with the reason without it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

MISSING = [m for m in ("httpx", "jwt", "cryptography") if importlib.util.find_spec(m) is None]
collect_ignore_glob = ["test_*.py"] if MISSING else []
if MISSING:
    print(f"tests/fhir/bulk skipped: missing {', '.join(MISSING)}; pip install -e '.[fhir]'")
else:
    from bulk_fake import BASE, CLIENT_ID, FakeBulkServer, FakeClock, pem, standard_files
    from cryptography.hazmat.primitives.asymmetric import ec, rsa


@pytest.fixture(scope="session")
def rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> Any:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def rsa_pem(tmp_path: Path, rsa_key: Any) -> Path:
    path = tmp_path / "client-rsa.pem"
    path.write_bytes(pem(rsa_key))
    return path


@pytest.fixture
def ec_jwk(tmp_path: Path, ec_key: Any) -> Path:
    import jwt

    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key))
    path = tmp_path / "client-ec.jwk.json"
    path.write_text(json.dumps({**jwk, "kid": "ec-key-1"}))
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock, rsa_key: Any) -> FakeBulkServer:
    """A server that answers 202 once with X-Progress, then the manifest of three files."""
    return FakeBulkServer(
        clock,
        rsa_key.public_key(),
        files=standard_files(),
        status_script=[(202, {"X-Progress": "40% done", "Retry-After": "10"})],
    )


@pytest.fixture
def options(tmp_path: Path, rsa_pem: Path) -> Any:
    from clotsafe.fhir.bulk.export import ExportOptions
    from clotsafe.fhir.bulk.kickoff import ExportRequest

    def make(**kw: Any) -> ExportOptions:
        request = kw.pop("request", None) or ExportRequest(
            group="g1", patients=(), types=("Patient", "Condition")
        )
        base = {
            "fhir_server": BASE,
            "request": request,
            "client_id": CLIENT_ID,
            "key_path": rsa_pem,
            "kid": "rsa-key-1",
            "out": tmp_path / "export",
        }
        return ExportOptions(**{**base, **kw})

    return make
