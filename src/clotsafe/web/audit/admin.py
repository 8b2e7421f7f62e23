"""The audit log in the operator's admin: read-only, never deleted (docs/operations.md)."""

from __future__ import annotations

from django.contrib import admin

from clotsafe.web.audit.adminlog import ReadOnlyAdmin
from clotsafe.web.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "clinic_name", "actor", "action", "target_type", "target_id", "detail",
                    "ip_address")  # fmt: skip
    list_filter = ("action", "target_type", "clinic_name")
    search_fields = ("actor", "detail", "target_id", "ip_address")
    date_hierarchy = "at"
    actions = None  # no bulk action (and so no "delete selected")
