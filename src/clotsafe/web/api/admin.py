"""API tokens in the operator's admin: shown (never the hash), revoked by an action, audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from clotsafe.web.api import tokens
from clotsafe.web.api.models import ApiToken
from clotsafe.web.audit.adminlog import NoEditAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(NoEditAdmin):
    list_display = ("id", "prefix", "name", "user", "clinic", "created_at", "last_used_at",
                    "revoked_at")  # fmt: skip
    list_filter = ("clinic",)
    exclude = ("token_hash",)
    actions = ("revoke",)

    @admin.action(description="Revoke the selected API tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset.select_related("clinic"):
            tokens.revoke(token, by=request.user, actor="")  # type: ignore[arg-type]
