"""Clearances in the operator's admin (every change audited)."""

from __future__ import annotations

from django.contrib import admin

from clotsafe.web.audit.adminlog import AuditedAdmin
from clotsafe.web.clearances.models import Clearance


@admin.register(Clearance)
class ClearanceAdmin(AuditedAdmin):
    list_display = ("id", "client", "clinic", "clinician", "date", "valid_until")
    list_filter = ("clinic",)
    raw_id_fields = ("client",)
    readonly_fields = ("recorded_by",)
