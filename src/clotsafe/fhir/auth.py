"""CDS Hooks client authentication: the EHR's signed JWT (ES384 or RS384).

Checked: the signature with the issuer's configured public keys (JWKS), ``iss`` on the
allow-list, ``aud`` = this service's URL, ``exp`` (and ``iat``) with a small leeway, and ``jti``
never seen before (replay), through a small store protocol. Any failure is an :class:`AuthError`
whose message says what was wrong (HTTP 401).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt  # type: ignore[import-not-found, unused-ignore]

ALGORITHMS = ("ES384", "RS384")
LEEWAY_SECONDS = 30


class AuthError(Exception):
    """The request's JWT is missing or not acceptable (HTTP 401)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JtiStore(Protocol):
    """Remembers token ids until they expire."""

    def add_if_new(self, jti: str, expires_at: int) -> bool:
        """Record ``jti``; False when it was already recorded (a replay)."""
        ...


@dataclass
class MemoryJtiStore:
    """In-process store (tests, one-process servers); the Django app uses the database."""

    seen: dict[str, int] = field(default_factory=dict)

    def add_if_new(self, jti: str, expires_at: int) -> bool:
        now = int(time.time())
        for k in [k for k, exp in self.seen.items() if exp < now - LEEWAY_SECONDS]:
            del self.seen[k]
        if jti in self.seen:
            return False
        self.seen[jti] = expires_at
        return True


@dataclass(frozen=True)
class JwtConfig:
    """Issuer allow-list: issuer -> its JWKS (``{"keys": [...]}``); the audience to expect."""

    issuers: Mapping[str, Mapping[str, Any]]
    audience: str | Sequence[str]
    leeway: int = LEEWAY_SECONDS


def bearer(header: str | None) -> str:
    """The token of an ``Authorization: Bearer ...`` header."""
    if not header:
        raise AuthError("missing Authorization header: a CDS client must send a signed JWT "
                        "(Authorization: Bearer <jwt>)")  # fmt: skip
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <jwt>'")
    return token.strip()


def _key(config: JwtConfig, issuer: str, kid: str | None, alg: str) -> Any:
    jwks = config.issuers.get(issuer)
    if jwks is None:
        raise AuthError(f"issuer {issuer!r} is not on this service's allow-list")
    keys = [k for k in jwks.get("keys", ()) if kid is None or k.get("kid") == kid]
    if not keys:
        raise AuthError(f"no key {kid!r} is configured for issuer {issuer!r}")
    try:
        return jwt.PyJWK.from_dict(dict(keys[0]), algorithm=alg).key
    except jwt.PyJWTError as exc:
        raise AuthError(f"the configured key for {issuer!r} is unusable: {exc}") from None


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AuthError(f"the token is not a well-formed JWT: {exc}") from None
    return header, claims


def verify(token: str, config: JwtConfig, store: JtiStore) -> dict[str, Any]:
    """The verified claims, or AuthError saying what is wrong."""
    header, unverified = _unverified(token)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise AuthError(f"algorithm {alg!r} is not accepted; use ES384 or RS384")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str):
        raise AuthError("the token has no iss claim")
    key = _key(config, issuer, header.get("kid"), alg)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[alg], audience=config.audience, issuer=issuer,
            leeway=config.leeway, options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired (exp)") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"the token's aud is not this service ({config.audience})") from None
    except jwt.PyJWTError as exc:
        raise AuthError(f"the token was rejected: {exc}") from None
    if not store.add_if_new(str(claims["jti"]), int(claims["exp"])):
        raise AuthError("this token was already used (jti replay)")
    return claims
