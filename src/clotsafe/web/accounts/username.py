"""The username django-axes records for a log-in attempt, made safe for its database column."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

#: Django's username column; axes stores the attempt in a 255-character column (PostgreSQL
#: refuses a longer value, and any NUL byte), so the attempt is cut to what a username can be
USERNAME_MAX = 150


def attempted_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    if credentials:
        raw = credentials.get("username")
    else:
        raw = getattr(request, "POST", {}).get("username")
    return str(raw or "").replace("\x00", "")[:USERNAME_MAX]
