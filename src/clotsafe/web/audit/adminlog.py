"""The Django admin, for the operator only, with every change in the audit log.

- Only an active superuser may open the admin (:func:`operator_only`, installed on the default
  site by :func:`restrict_site`); staff accounts without superuser status get the login page.
- :class:`AuditLogMixin` writes each addition, change and deletion to the audit log (who, which
  kind of object and its id, which fields: never the values, so no health data), under the
  object's clinic, so that the clinic lead's audit export shows what the operator did. It
  replaces the admin's own LogEntry history, which would keep each object's name (a client's
  name) beyond an erasure. clotsafe's own admins use :class:`AuditedAdmin`;
  :func:`audit_every_admin` gives the mixin to the admins other apps registered (users, groups,
  django-axes, django-otp), so no change in the admin escapes the log.
- Page views in the admin are recorded by the audit middleware.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from clotsafe.web.audit.services import log
from clotsafe.web.clinics.models import Clinic


def operator_only(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


def restrict_site(site: admin.AdminSite) -> None:
    site.has_permission = operator_only  # type: ignore[method-assign]
    site.site_header = "clotsafe operator admin"
    site.site_title = "clotsafe admin"
    site.index_title = "Operator administration (every change is in the audit log)"


def clinic_of(obj: Any) -> Clinic | None:
    """The clinic an object belongs to (itself, its clinic, its client's, a user's)."""
    if isinstance(obj, Clinic):
        return obj
    for path in ("clinic", "client", "link", "membership"):
        related = getattr(obj, path, None)
        if isinstance(related, Clinic):
            return related
        if related is not None:
            return clinic_of(related)
    return None


def _fields(message: Any) -> str:
    """The field names of the admin's change message (a list of {"changed": {"fields": ...}})."""
    names: list[str] = []
    for part in message if isinstance(message, list) else []:
        for value in part.values():
            names.extend(str(f) for f in value.get("fields", []))
    return ", ".join(names)


class AuditLogMixin:
    """For a ModelAdmin: its changes go to the audit log (instead of the admin's LogEntry)."""

    def _audit(self, request: HttpRequest, obj: models.Model, action: str, detail: str) -> None:
        what = f"admin: {detail} {obj._meta.verbose_name} #{obj.pk}"
        log(clinic_of(obj), request.user, action, obj,
            target_type=obj._meta.model_name or "", detail=what, request=request)  # fmt: skip

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> None:
        self._audit(request, obj, "create", "added")

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> None:
        fields = _fields(message)
        self._audit(request, obj, "change", f"changed {fields} of" if fields else "saved")

    def log_deletions(self, request: HttpRequest, queryset: Iterable[models.Model]) -> None:
        for obj in queryset:  # before the deletion: the clinic is still there to name
            self._audit(request, obj, "delete", "deleted")


# misc: the stubs want a LogEntry back; Django ignores the value, and no LogEntry is written
class AuditedAdmin(AuditLogMixin, admin.ModelAdmin):  # type: ignore[type-arg,misc]
    """A ModelAdmin whose changes go to the audit log."""


def audit_every_admin(site: admin.AdminSite) -> None:
    """Give every registered admin that lacks it the audit mixin (run once the admin modules
    are loaded: ``AuditConfig.ready``, after the admin's autodiscovery)."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, AuditLogMixin):
            continue
        cls = type(model_admin)
        audited = type(f"Audited{cls.__name__}", (AuditLogMixin, cls), {})
        site._registry[model] = audited(model, site)


class NoEditAdmin(AuditedAdmin):
    """Shown, never added or changed in the admin (deleted only with what it belongs to)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(NoEditAdmin):
    """Shown, never added, changed or deleted in the admin."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
