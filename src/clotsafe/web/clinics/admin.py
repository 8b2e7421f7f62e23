"""Clinics and memberships in the operator's admin (every change audited)."""

from __future__ import annotations

from django.contrib import admin

from clotsafe.web.audit.adminlog import AuditedAdmin
from clotsafe.web.clinics.models import Clinic, Membership


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Clinic)
class ClinicAdmin(AuditedAdmin):
    list_display = ("name", "emergency_number", "units", "created_at")
    search_fields = ("name",)
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "clinic", "role")
    list_filter = ("role", "clinic")
    raw_id_fields = ("user",)
