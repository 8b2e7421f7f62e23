"""Clients and intake links in the operator's admin (every change audited; a link's token hash
is never shown)."""

from __future__ import annotations

from django.contrib import admin

from clotsafe.web.audit.adminlog import AuditedAdmin
from clotsafe.web.clients.models import Client, IntakeLink


@admin.register(Client)
class ClientAdmin(AuditedAdmin):
    list_display = ("id", "name", "clinic", "level", "created_at", "archived_at")
    list_filter = ("clinic",)
    search_fields = ("name", "reference")
    #: kept by the app: who added the client, and the newest screening (denormalised)
    readonly_fields = ("created_by", "latest_screening", "level")


@admin.register(IntakeLink)
class IntakeLinkAdmin(AuditedAdmin):
    list_display = ("id", "client", "created_at", "expires_at", "submitted_at", "revoked_at")
    exclude = ("token_hash",)
    raw_id_fields = ("client",)
    readonly_fields = ("created_by",)
