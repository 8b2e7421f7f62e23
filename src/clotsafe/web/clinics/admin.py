"""Clinics and memberships in the operator's admin (every change audited).

The operator deactivates or reactivates a clinic here: the "active" box on its page, or the two
actions on the list. Either way the audit log says which way, under the clinic."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from clotsafe.web.audit.adminlog import AuditedAdmin
from clotsafe.web.clinics.models import Clinic, Membership
from clotsafe.web.clinics.services import record_switch, set_clinic_active


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Clinic)
class ClinicAdmin(AuditedAdmin):
    list_display = ("name", "is_active", "emergency_number", "units", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = (MembershipInline,)
    actions = ("deactivate", "reactivate")

    def save_model(self, request: HttpRequest, obj: Clinic, form: Any, change: bool) -> None:
        """Saved as usual; a change of the "active" box is recorded in words too."""
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            record_switch(obj, by=_operator(request), request=request)

    @admin.action(description="Deactivate the selected clinics")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Clinic]) -> None:
        self._switch(request, queryset, active=False)

    @admin.action(description="Reactivate the selected clinics")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Clinic]) -> None:
        self._switch(request, queryset, active=True)

    def _switch(self, request: HttpRequest, queryset: QuerySet[Clinic], *, active: bool) -> None:
        for clinic in queryset:
            set_clinic_active(clinic, active, by=_operator(request), request=request)
        word = "reactivated" if active else "deactivated"
        self.message_user(request, f"{queryset.count()} clinic(s) {word}.", messages.SUCCESS)


def _operator(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "clinic", "role")
    list_filter = ("role", "clinic")
    raw_id_fields = ("user",)
