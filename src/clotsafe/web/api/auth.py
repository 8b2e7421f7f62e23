"""Bearer-token authentication and the per-token rate limit of the API.

Only ``Authorization: Bearer <token>`` authenticates: a session cookie never does, so no
write can come from a browser without the token (no CSRF surface).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from clotsafe.web.api import tokens
from clotsafe.web.api.models import ApiToken

#: calls per token; "<count>/<s|min|hour|day>"; setting CLOTSAFE_API_RATE or the environment
DEFAULT_RATE = "120/min"


class TokenAuth(HttpBearer):
    """``request.auth`` becomes the :class:`ApiToken` (its clinic scopes every query)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return tokens.authenticate(token.strip())


def rate() -> str:
    configured = getattr(settings, "CLOTSAFE_API_RATE", None)
    return str(configured or os.environ.get("CLOTSAFE_API_RATE") or DEFAULT_RATE)


class TokenRateThrottle(SimpleRateThrottle):
    """At most :func:`rate` calls per token in a sliding window, counted in Django's cache.

    With the default cache (local memory) the count is per server process: waitress runs one
    process, so that is the server's limit; several processes each count on their own unless
    a shared cache (e.g. Redis) is configured (docs/api.md)."""

    cache = cache
    cache_format = "clotsafe-api-rate-%(ident)s"

    def __init__(self) -> None:
        super().__init__(rate=DEFAULT_RATE)

    def allow_request(self, request: HttpRequest) -> bool:
        self.num_requests, self.duration = self.parse_rate(rate())  # read per call: tests, admins
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        token: Any = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return None
        return self.cache_format % {"ident": token.token_hash}  # unique, unlike a reused id
