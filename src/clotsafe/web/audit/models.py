"""The audit log: who viewed, created, changed or exported what, and when. Append-only.

Append-only twice: here in the ORM (a clear error for app code), and in the database, whose
triggers (:mod:`clotsafe.web.audit.triggers`) refuse UPDATE and DELETE from anywhere.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from clotsafe.web.clinics.models import Clinic


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete an audit event from the app."""


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("the audit log is append-only")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        VIEW = "view"
        CREATE = "create"
        CHANGE = "change"
        EXPORT = "export"
        LOGIN = "login"
        LOGOUT = "logout"
        SUBMIT = "submit"
        OPEN = "open"
        LOGIN_FAILED = "login_failed"
        ERASE = "erase"
        DELETE = "delete"
        API = "api"

    #: a removed clinic or user only unlinks its events (set to NULL, which the database
    #: triggers allow, and nothing else): their names stay as text in clinic_name and actor
    clinic = models.ForeignKey(Clinic, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")  # fmt: skip
    clinic_name = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")  # fmt: skip
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=Action.choices)
    target_type = models.CharField(max_length=50)
    target_id = models.CharField(max_length=50, blank=True)
    #: never health data: ids, field names, what was done (docs/operations.md)
    detail = models.CharField(max_length=500, blank=True)
    #: where the request came from (clotsafe.web.audit.services.client_ip) and its user agent
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    #: a settings change: {field: {"old": ..., "new": ...}} (the clinic's own settings, no
    #: health data)
    changes: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("the audit log is append-only")
