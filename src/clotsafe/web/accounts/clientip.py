"""The client's address, as the lockout and the audit log should see it.

Behind reverse proxies every request comes from the last proxy's address (``REMOTE_ADDR``), so a
lockout keyed on it would lock everyone out together. Each proxy appends the address it received
the request from to ``X-Forwarded-For``; with ``TRUSTED_PROXIES = n`` the client is the n-th
entry from the right. Entries further left were written by the client and are never trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address the outermost trusted proxy saw, or ``REMOTE_ADDR`` without proxies."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    count = int(getattr(settings, "TRUSTED_PROXIES", 0))
    if count <= 0:
        return remote
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [h for h in hops if h]
    if len(hops) < count:  # did not come through every proxy: the peer is the client
        return remote
    candidate = hops[-count]
    return candidate if _is_address(candidate) else remote


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
