"""The audit log: who viewed, created, changed or exported what, and when. Append-only."""

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

    clinic = models.ForeignKey(Clinic, null=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                             related_name="+")  # fmt: skip
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=Action.choices)
    target_type = models.CharField(max_length=50)
    target_id = models.CharField(max_length=50, blank=True)
    detail = models.CharField(max_length=500, blank=True)
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
