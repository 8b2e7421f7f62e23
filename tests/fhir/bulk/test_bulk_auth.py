"""SMART Backend Services: the key, discovery, the client assertion and the token's refresh.

Protects: only a correctly signed, short-lived, never-replayed assertion asks for a token; the
scope follows what the server advertises; an export that waits for hours keeps a valid token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
from bulk_fake import TOKEN_URL, FakeBulkServer, FakeClock, pem
from cryptography.hazmat.primitives.asymmetric import ec

from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.bulk.export import run_export
from clotsafe.fhir.bulk.session import Session
from clotsafe.fhir.bulk.smart import SCOPE_V1, SCOPE_V2, client_assertion, discover, load_key


def test_rsa_pem_signs_rs384_with_the_given_kid(rsa_pem: Path) -> None:
    """An RSA PEM key signs RS384; its kid comes from --kid."""
    key = load_key(rsa_pem, "rsa-key-1")
    assert (key.alg, key.kid) == ("RS384", "rsa-key-1")
    assert "PRIVATE" not in repr(key)


def test_ec_jwk_signs_es384_with_its_own_kid(ec_jwk: Path) -> None:
    """An EC P-384 JWK signs ES384 with the kid the file carries."""
    key = load_key(ec_jwk, None)
    assert (key.alg, key.kid) == ("ES384", "ec-key-1")


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        ("pem_no_kid", "give --kid"),
        ("p256", "EC P-384"),
        ("garbage", "not a PEM private key"),
        ("missing", "cannot read"),
        ("kid_conflict", "with kid 'other'"),
    ],
)
def test_unusable_keys_are_refused_with_bulk_bad_key(
    tmp_path: Path, rsa_pem: Path, ec_jwk: Path, setup: str, needle: str
) -> None:
    """Every unusable key is bulk_bad_key with a message that says what to do."""
    path, kid = rsa_pem, None
    if setup == "p256":
        path = tmp_path / "p256.pem"
        path.write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
        kid = "k"
    elif setup == "garbage":
        path = tmp_path / "g.pem"
        path.write_text("hello")
        kid = "k"
    elif setup == "missing":
        path, kid = tmp_path / "nope.pem", "k"
    elif setup == "kid_conflict":
        path, kid = ec_jwk, "other"
    with pytest.raises(BulkError) as err:
        load_key(path, kid)
    assert err.value.code == "bulk_bad_key" and needle in err.value.message


def test_client_assertion_claims(ec_jwk: Path, ec_key: Any) -> None:
    """iss = sub = client id, aud = token endpoint, exp ≤ 5 min, a new jti every time, kid."""
    key = load_key(ec_jwk, None)
    a, b = (client_assertion(key, "me", TOKEN_URL, 1_795_000_000.0) for _ in range(2))
    claims = jwt.decode(
        a,
        ec_key.public_key(),
        algorithms=["ES384"],
        audience=TOKEN_URL,
        options={"verify_exp": False},
    )
    assert claims["iss"] == claims["sub"] == "me"
    assert 0 < claims["exp"] - 1_795_000_000 <= 300
    assert jwt.get_unverified_header(a)["kid"] == "ec-key-1"
    assert claims["jti"] != jwt.decode(b, options={"verify_signature": False})["jti"]


@pytest.mark.parametrize(
    ("advertised", "scope"),
    [
        ({"scopes_supported": ["system/*.rs"]}, SCOPE_V2),
        ({"scopes_supported": ["system/*.read", "launch"]}, SCOPE_V1),
        ({"capabilities": ["permission-v2"]}, SCOPE_V2),
        ({}, SCOPE_V1),
    ],
)
def test_scope_follows_what_the_server_advertises(
    clock: FakeClock, rsa_key: Any, rsa_pem: Path, advertised: dict[str, Any], scope: str
) -> None:
    """SMART v2 system/*.rs when advertised, else the v1 system/*.read."""
    fake = FakeBulkServer(
        clock, rsa_key.public_key(), smart={"token_endpoint": TOKEN_URL, **advertised}
    )
    session = Session(fake.client(), "https://ehr.example.org/fhir", None, clock)
    config = discover(session, load_key(rsa_pem, "k"), None)
    assert (config.token_endpoint, config.scope) == (TOKEN_URL, scope)


@pytest.mark.parametrize(
    ("smart", "needle"),
    [
        ({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}, "private_key_jwt"),
        ({"token_endpoint_auth_signing_alg_values_supported": ["ES384"]}, "RS384"),
        ({"token_endpoint": "http://auth.example.org/token"}, "plain http"),
        ({"token_endpoint": None}, "no token_endpoint"),
    ],
)
def test_discovery_refuses_what_cannot_work(
    clock: FakeClock, rsa_key: Any, rsa_pem: Path, smart: dict[str, Any], needle: str
) -> None:
    """No private_key_jwt, our algorithm not accepted, an http token endpoint: clear errors."""
    fake = FakeBulkServer(clock, rsa_key.public_key(), smart={"token_endpoint": TOKEN_URL, **smart})
    session = Session(fake.client(), "https://ehr.example.org/fhir", None, clock)
    with pytest.raises(BulkError) as err:
        discover(session, load_key(rsa_pem, "k"), None)
    assert needle in err.value.message


def test_token_refreshed_before_expiry_during_a_long_poll(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """Two hours of polling with 5-minute tokens: new tokens in time, never a 401, unique jti."""
    server.status_script = [(202, {"Retry-After": "300"})] * 24
    result = run_export(options(), http=server.client(), clock=clock)
    assert server.unauthorized == 0
    assert result.tokens_fetched >= 24 * 300 / 300
    assert len(server.jtis) == len(server.assertions) == result.tokens_fetched
    assert sum(clock.sleeps) >= 2 * 3600


def test_a_refused_assertion_is_bulk_token_refused(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path, ec_jwk: Path
) -> None:
    """A key the server does not know (signature fails): the token endpoint's error is shown."""
    server.public_key = ec.generate_private_key(ec.SECP384R1()).public_key()
    server.smart["token_endpoint_auth_signing_alg_values_supported"] = ["ES384"]

    def refuse(request: Any) -> Any:
        try:
            return FakeBulkServer._token(server, request)
        except jwt.PyJWTError:
            import httpx

            return httpx.Response(
                401, json={"error": "invalid_client", "error_description": "bad signature"}
            )

    server._token = refuse  # type: ignore[method-assign]
    with pytest.raises(BulkError) as err:
        run_export(options(key_path=ec_jwk, kid=None), http=server.client(), clock=clock)
    assert err.value.code == "bulk_token_refused"
    assert "invalid_client bad signature" in err.value.message
