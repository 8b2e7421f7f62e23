"""Write and export the audit log (append-only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clinics.models import Clinic

CSV_HEADER = ("at", "clinic", "actor", "action", "target_type", "target_id", "detail")


def log(clinic: Clinic | None, user: AbstractBaseUser | AnonymousUser | None, action: str,
        target: Any = None, *, target_type: str = "", detail: str = "",
        actor: str = "", request: HttpRequest | None = None) -> AuditEvent:  # fmt: skip
    """Record one event. ``target`` is a model instance (its class name and pk are kept).

    ``request``, when given, supplies the client's address and user agent.
    """
    real_user: Any = user if user is not None and user.is_authenticated else None
    if target is not None:
        target_type = target_type or type(target).__name__.lower()
    return AuditEvent.objects.create(
        clinic=clinic,
        user=real_user,
        actor=actor or (real_user.get_username() if real_user else "anonymous"),
        action=action,
        target_type=target_type,
        target_id=str(getattr(target, "pk", "") or ""),
        detail=detail[:500],
    )


def export_rows(clinic: Clinic) -> Iterator[str]:
    """The clinic's audit log as CSV lines, oldest first (streamed)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEADER)
    yield _take(buf)
    events = AuditEvent.objects.filter(clinic=clinic).order_by("at", "id").iterator()
    for e in events:
        writer.writerow((e.at.isoformat(), clinic.name, e.actor, e.action, e.target_type,
                         e.target_id, e.detail))  # fmt: skip
        yield _take(buf)


def _take(buf: io.StringIO) -> str:
    value = buf.getvalue()
    buf.seek(0)
    buf.truncate(0)
    return value
