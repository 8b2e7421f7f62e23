"""SMART Backend Services authorization (client-credentials with a signed client assertion).

- the private key: a PEM (RSA → RS384, EC P-384 → ES384; ``kid`` from ``--kid``) or a JWK / JWKS
  JSON file (its ``kid``, overridable by ``--kid`` only when they agree);
- discovery: ``<FHIR base>/.well-known/smart-configuration`` → ``token_endpoint``, the signing
  algorithms and scopes it advertises (SMART v2 ``system/*.rs`` when advertised, else v1
  ``system/*.read``);
- the client assertion: ``iss`` = ``sub`` = client id, ``aud`` = the token endpoint, a fresh
  random ``jti``, ``exp`` = now + 4 minutes (the specification's limit is 5);
- :class:`TokenSource` caches the access token and asks for a new one shortly before it expires,
  so an export that polls for days keeps working.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt  # type: ignore[import-not-found, unused-ignore]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from clotsafe.domain import strictjson
from clotsafe.fhir.bulk.errors import BulkError, clean
from clotsafe.fhir.bulk.session import Session, check_url

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 240
SCOPE_V1 = "system/*.read"
SCOPE_V2 = "system/*.rs"
DEFAULT_EXPIRES_IN = 300
REFRESH_MARGIN = 60.0


@dataclass(frozen=True)
class SigningKey:
    """A private key with its JWS algorithm and key id. ``repr`` shows no key material."""

    key: Any = field(repr=False)
    alg: str
    kid: str


@dataclass(frozen=True)
class SmartConfig:
    token_endpoint: str
    scope: str
    algorithms: tuple[str, ...] = ()


def load_key(path: Path, kid: str | None) -> SigningKey:
    """The signing key in ``path`` (PEM, JWK or JWKS), or BulkError ``bulk_bad_key``.

    The ``kid`` is ``--kid`` or the JWK's own; with ``--kid``, a JWKS's key is the one with
    that kid (or without one).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BulkError(
            "bulk_bad_key", f"cannot read the key file {path}: {exc.strerror}"
        ) from None
    if data.lstrip().startswith(b"{"):
        key, file_kid = _from_jwk(data, path, kid)
    else:
        key, file_kid = _from_pem(data, path), None
    chosen = kid or file_kid
    if not chosen:
        raise BulkError(
            "bulk_bad_key",
            f"{path} carries no key id (a PEM never does): give --kid "
            "(the kid registered with the server's JWKS)",
        )
    return SigningKey(key, _alg(key, path), chosen)


def _from_pem(data: bytes, path: Path) -> Any:
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise BulkError("bulk_bad_key", f"{path} is encrypted; give an unencrypted key") from None
    except ValueError:
        raise BulkError("bulk_bad_key", f"{path} is not a PEM private key") from None


def _from_jwk(data: bytes, path: Path, kid: str | None) -> tuple[Any, str | None]:
    try:
        obj = strictjson.loads(data)
    except strictjson.JsonInputError as exc:
        raise BulkError("bulk_bad_key", f"{path}: {exc.errors[0]}") from None
    keys = obj.get("keys") if isinstance(obj, dict) and "keys" in obj else [obj]
    private = [k for k in keys or () if isinstance(k, dict) and "d" in k]
    if kid:
        private = [k for k in private if k.get("kid") in (kid, None)]
    if len(private) != 1:
        raise BulkError(
            "bulk_bad_key",
            f"{path} must hold exactly one private JWK"
            + (f" with kid {kid!r}" if kid else " (or give --kid)"),
        )
    try:
        key = jwt.PyJWK.from_dict(private[0]).key
    except jwt.PyJWTError as exc:
        raise BulkError("bulk_bad_key", f"{path}: unusable JWK ({exc})") from None
    found = private[0].get("kid")
    return key, found if isinstance(found, str) else None


def _alg(key: Any, path: Path) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise BulkError("bulk_bad_key", f"{path}: an RSA key needs at least 2048 bits")
        return "RS384"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1):
        return "ES384"
    raise BulkError("bulk_bad_key", f"{path}: use an RSA (RS384) or EC P-384 (ES384) private key")


def discover(session: Session, key: SigningKey, scope: str | None) -> SmartConfig:
    """Read ``.well-known/smart-configuration``: the token endpoint, algorithms, scope to ask."""
    url = f"{session.base_url.rstrip('/')}/.well-known/smart-configuration"
    resp = session.send(
        "GET",
        url,
        auth=False,
        headers={"Accept": "application/json"},
        what="the SMART configuration",
    )
    if resp.status_code != 200:
        raise BulkError("bulk_discovery_failed", f"{url} answered HTTP {resp.status_code}")
    try:
        conf = strictjson.loads(resp.content)
    except strictjson.JsonInputError:
        conf = None
    if not isinstance(conf, dict) or not isinstance(conf.get("token_endpoint"), str):
        raise BulkError("bulk_discovery_failed", f"{url} has no token_endpoint")
    _check_supports(conf, key)
    token_endpoint = check_url(conf["token_endpoint"], "the token endpoint")
    return SmartConfig(token_endpoint, scope or _scope(conf), tuple(_strings(conf, _ALGS)))


_ALGS = "token_endpoint_auth_signing_alg_values_supported"


def _strings(conf: dict[str, Any], name: str) -> list[str]:
    value = conf.get(name)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _check_supports(conf: dict[str, Any], key: SigningKey) -> None:
    methods = _strings(conf, "token_endpoint_auth_methods_supported")
    if methods and "private_key_jwt" not in methods:
        raise BulkError(
            "bulk_discovery_failed",
            "the server does not offer private_key_jwt "
            f"client authentication (it offers {', '.join(methods)})",
        )
    algs = _strings(conf, _ALGS)
    if algs and key.alg not in algs:
        raise BulkError(
            "bulk_discovery_failed",
            f"the server does not accept {key.alg} "
            f"client assertions (it accepts {', '.join(algs)})",
        )


def _scope(conf: dict[str, Any]) -> str:
    scopes = _strings(conf, "scopes_supported")
    if SCOPE_V2 in scopes:
        return SCOPE_V2
    if SCOPE_V1 in scopes:
        return SCOPE_V1
    return SCOPE_V2 if "permission-v2" in _strings(conf, "capabilities") else SCOPE_V1


def client_assertion(key: SigningKey, client_id: str, audience: str, now: float) -> str:
    """A signed JWT for ``private_key_jwt``: new ``jti`` every call, ``exp`` within 5 minutes."""
    issued = int(now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
        "jti": secrets.token_urlsafe(24),
    }
    headers = {"kid": key.kid, "typ": "JWT"}
    return str(jwt.encode(claims, key.key, algorithm=key.alg, headers=headers))


@dataclass
class TokenSource:
    """The access token: fetched on first use, fetched again shortly before it expires."""

    session: Session
    config: SmartConfig
    key: SigningKey
    client_id: str
    _token: str | None = field(default=None, repr=False)
    _expires_at: float = 0.0
    fetched: int = 0

    def token(self) -> str:
        if self._token is None or self.session.clock.now() >= self._expires_at:
            self._token, lifetime = self._fetch()
            margin = min(REFRESH_MARGIN, lifetime / 5)
            self._expires_at = self.session.clock.now() + lifetime - margin
            self.fetched += 1
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def _fetch(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "scope": self.config.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(
                self.key, self.client_id, self.config.token_endpoint, self.session.clock.now()
            ),
        }
        resp = self.session.send(
            "POST",
            self.config.token_endpoint,
            auth=False,
            data=form,
            headers={"Accept": "application/json"},
            what="the token endpoint",
        )
        return _read_token(resp)


def _read_token(resp: Any) -> tuple[str, float]:
    try:
        body = strictjson.loads(resp.content)
    except strictjson.JsonInputError:
        body = None
    body = body if isinstance(body, dict) else {}
    if resp.status_code != 200:
        detail = clean(" ".join(str(body.get(k, "")) for k in ("error", "error_description")))
        raise BulkError(
            "bulk_token_refused",
            f"the token endpoint answered HTTP {resp.status_code} {detail.strip()}".strip(),
        )
    token, kind = body.get("access_token"), str(body.get("token_type", "")).lower()
    if not isinstance(token, str) or not token or kind != "bearer":
        raise BulkError("bulk_token_refused", "the token endpoint answered no bearer access_token")
    expires = body.get("expires_in")
    if isinstance(expires, (int, float)) and not isinstance(expires, bool) and expires > 0:
        return token, float(expires)
    return token, float(DEFAULT_EXPIRES_IN)
