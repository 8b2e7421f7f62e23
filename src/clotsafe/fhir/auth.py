"""CDS Hooks client authentication: the EHR's signed JWT (ES384 or RS384).

Checked: the signature with the issuer's configured public keys (JWKS), ``iss`` on the
allow-list, ``aud`` = this service's URL, ``exp`` (and ``iat``) with a small leeway, and ``jti``
never seen before (replay), through a small store protocol. Any failure is an :class:`AuthError`
whose message says what was wrong (HTTP 401).

``exp`` may be at most five minutes (plus the leeway) ahead, as CDS Hooks 2.0 requires: a token
that claims to live for ever (``exp`` = 2⁶⁴) is refused here, before any store sees it. ``jti``
must be a string of at most :data:`MAX_JTI_CHARS` characters; stores keep
:func:`jti_key` (a SHA-256), so its length and characters (NUL) never reach a database. Key
objects are built once per configured JWK and reused (:func:`_key`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt  # type: ignore[import-not-found, unused-ignore]

ALGORITHMS = ("ES384", "RS384")
LEEWAY_SECONDS = 30
#: CDS Hooks 2.0: "exp ... MUST be no more than five minutes in the future"
MAX_LIFETIME_SECONDS = 300
MAX_JTI_CHARS = 255


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


def jti_key(jti: str) -> str:
    """What a store keeps for a token id: its SHA-256 (64 hex characters, whatever it held)."""
    return hashlib.sha256(jti.encode("utf-8", "surrogatepass")).hexdigest()


#: (id of the issuer's JWKS, issuer, kid, alg) -> (that JWKS, the key object); building an EC
#: or RSA key object from a JWK costs more than verifying a signature with it
_KEY_CACHE: dict[tuple[int, str, str | None, str], tuple[Mapping[str, Any], Any]] = {}
_KEY_CACHE_MAX = 256
_KEY_LOCK = threading.Lock()


def _key(config: JwtConfig, issuer: str, kid: str | None, alg: str) -> Any:
    jwks = config.issuers.get(issuer)
    if jwks is None:
        raise AuthError(f"issuer {issuer!r} is not on this service's allow-list")
    cache_key = (id(jwks), issuer, kid, alg)
    hit = _KEY_CACHE.get(cache_key)
    if hit is not None and hit[0] is jwks:
        return hit[1]
    key = _build_key(jwks, issuer, kid, alg)
    with _KEY_LOCK:
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            _KEY_CACHE.clear()
        _KEY_CACHE[cache_key] = (jwks, key)
    return key


def _build_key(jwks: Mapping[str, Any], issuer: str, kid: str | None, alg: str) -> Any:
    keys = [k for k in jwks.get("keys", ()) if isinstance(k, Mapping)
            and (kid is None or k.get("kid") == kid)]  # fmt: skip
    if not keys:
        raise AuthError(f"no key {kid!r} is configured for issuer {issuer!r}")
    try:
        return jwt.PyJWK.from_dict(dict(keys[0]), algorithm=alg).key
    except jwt.PyJWTError as exc:
        raise AuthError(f"the configured key for {issuer!r} is unusable: {exc}") from None


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        unverified = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise AuthError(f"the token is not a well-formed JWT: {exc}") from None
    header, claims = unverified["header"], unverified["payload"]
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthError("the token is not a well-formed JWT")
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
    kid = header.get("kid")
    key = _key(config, issuer, kid if isinstance(kid, str) else None, alg)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[alg], audience=config.audience, issuer=issuer,
            leeway=config.leeway, options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired (exp)") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"the token's aud is not this service ({config.audience})") from None
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise AuthError(f"the token was rejected: {exc}") from None
    jti, exp = _checked_jti(claims), _checked_exp(claims, config.leeway)
    if not store.add_if_new(jti, exp):
        raise AuthError("this token was already used (jti replay)")
    return claims


def _checked_exp(claims: Mapping[str, Any], leeway: int) -> int:
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise AuthError("the token's exp is not a number")
    if exp > time.time() + MAX_LIFETIME_SECONDS + leeway:
        raise AuthError("the token's exp is more than five minutes ahead (CDS Hooks 2.0 "
                        "allows at most five)")  # fmt: skip
    return int(exp)


def _checked_jti(claims: Mapping[str, Any]) -> str:
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS:
        raise AuthError(f"the token's jti must be a string of 1 to {MAX_JTI_CHARS} characters")
    return jti
