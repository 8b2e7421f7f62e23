"""Template context: the signed-in user's clinic and role (for the navigation)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def clinic(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {"nav_clinic": getattr(membership, "clinic", None),
            "nav_is_lead": bool(membership and membership.is_lead)}  # fmt: skip
