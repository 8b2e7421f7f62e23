"""Settings of the CDS service, from Django settings (``CLOTSAFE_CDS``) or the environment.

CLOTSAFE_CDS_AUTH        "jwt" (default) or "off"; "off" is honoured only with DEBUG on
CLOTSAFE_CDS_ISSUERS     path to a JSON file {issuer: JWKS} (the iss allow-list and its keys)
CLOTSAFE_CDS_AUDIENCE    comma-separated accepted aud values (default: the URL called)
CLOTSAFE_PUBLIC_URL      base URL used in card links (default: the request's own host)
CLOTSAFE_CDS_MAX_BYTES   largest request body accepted (default 5 MB; larger: HTTP 413)
CLOTSAFE_CDS_LETTER_HOURS     how long a card's consultation-letter link works (default 24)
CLOTSAFE_CDS_ORGANISATION     letterhead of those letters (default "clotsafe")
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
    )
