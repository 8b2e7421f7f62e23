"""Settings of the CDS service, from Django settings (``CLOTSAFE_CDS``) or the environment.

CLOTSAFE_CDS_AUTH        "jwt" (default) or "off"; "off" is honoured only with DEBUG on
CLOTSAFE_CDS_ISSUERS     path to a JSON file {issuer: JWKS} (the iss allow-list and its keys)
CLOTSAFE_CDS_AUDIENCE    comma-separated accepted aud values (default: the URL called)
CLOTSAFE_PUBLIC_URL      base URL used in card links (default: the request's own host)
CLOTSAFE_CDS_MAX_BYTES   largest request body accepted (default 5 MB; larger: HTTP 413)
CLOTSAFE_CDS_LETTER_HOURS     how long a card's consultation-letter link works (default 24)
CLOTSAFE_CDS_ORGANISATION     letterhead of those letters (default "clotsafe")
CLOTSAFE_CDS_FHIR_ALLOW_HTTP  "1": fetch from http:// fhirServers too (tests only; default https)
CLOTSAFE_CDS_FHIR_NETWORKS    comma-separated networks a fhirServer may resolve to besides public
                              addresses (e.g. "10.20.0.0/16"; default none: no loopback, private
                              or link-local address is ever fetched from)
CLOTSAFE_CDS_AUDIT_KEY        key of the patient-id hash in the hook audit (default SECRET_KEY)

The body limit is the smaller of CLOTSAFE_CDS_MAX_BYTES and Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB unless set; the standalone settings set 5 MB): a body over it
gets the one JSON error ``too_large`` (413).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from clotsafe.domain import strictjson
from clotsafe.fhir.client import ServerPolicy

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_LETTER_HOURS = 24
DEFAULT_ORGANISATION = "clotsafe"


@dataclass(frozen=True)
class CdsSettings:
    auth: bool
    issuers: dict[str, Any]
    audience: tuple[str, ...]
    public_url: str | None
    max_bytes: int
    letter_hours: float
    organisation: str
    #: letters need WeasyPrint (the `web` extra); without it cards carry no letter link
    letters: bool
    fhir_policy: ServerPolicy
    audit_key: bytes


def _get(name: str, default: str = "") -> str:
    own = getattr(settings, "CLOTSAFE_CDS", {}) or {}
    return str(own.get(name, os.environ.get(name, default)))


def _issuers(path: str) -> dict[str, Any]:
    """The issuer allow-list; a file that is not JSON or names a key twice (which issuer or key
    set was meant?) stops the service with a message naming the file and the key's path."""
    if not path:
        return {}
    try:
        data = strictjson.loads(Path(path).read_bytes())
    except strictjson.JsonInputError as exc:
        raise ImproperlyConfigured(f"CLOTSAFE_CDS_ISSUERS file {path}: {exc}") from None
    return data if isinstance(data, dict) else {}


@cache
def cds_settings() -> CdsSettings:
    auth_off = _get("CLOTSAFE_CDS_AUTH", "jwt").lower() == "off" and bool(settings.DEBUG)
    audience = tuple(a.strip() for a in _get("CLOTSAFE_CDS_AUDIENCE").split(",") if a.strip())
    return CdsSettings(
        auth=not auth_off,
        issuers=_issuers(_get("CLOTSAFE_CDS_ISSUERS")),
        audience=audience,
        public_url=_get("CLOTSAFE_PUBLIC_URL") or None,
        max_bytes=int(_get("CLOTSAFE_CDS_MAX_BYTES", str(DEFAULT_MAX_BYTES))),
        letter_hours=float(_get("CLOTSAFE_CDS_LETTER_HOURS", str(DEFAULT_LETTER_HOURS))),
        organisation=_get("CLOTSAFE_CDS_ORGANISATION") or DEFAULT_ORGANISATION,
        letters=importlib.util.find_spec("weasyprint") is not None,
        fhir_policy=_fhir_policy(),
        audit_key=(_get("CLOTSAFE_CDS_AUDIT_KEY") or str(settings.SECRET_KEY)).encode(),
    )


def _fhir_policy() -> ServerPolicy:
    allow_http = _get("CLOTSAFE_CDS_FHIR_ALLOW_HTTP").lower() in ("1", "true", "yes")
    try:
        return ServerPolicy.from_strings(allow_http, _get("CLOTSAFE_CDS_FHIR_NETWORKS"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"CLOTSAFE_CDS_FHIR_NETWORKS: {exc}") from None


def body_limit() -> int:
    """The largest body read: CLOTSAFE_CDS_MAX_BYTES, never above DATA_UPLOAD_MAX_MEMORY_SIZE
    (beyond it Django itself refuses to read the body)."""
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    own = cds_settings().max_bytes
    return own if django_limit is None else min(own, int(django_limit))
