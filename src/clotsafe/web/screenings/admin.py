"""Screenings in the operator's admin (every change audited)."""

from __future__ import annotations

from django.contrib import admin

from clotsafe.web.audit.adminlog import AuditedAdmin
from clotsafe.web.screenings.models import Screening


@admin.register(Screening)
class ScreeningAdmin(AuditedAdmin):
    list_display = ("id", "client", "clinic", "kind", "level", "complete", "created_at")
    list_filter = ("kind", "level", "clinic")
    raw_id_fields = ("client", "based_on")
    readonly_fields = ("created_by", "red_flag_ack_by")
