"""Write and export the audit log (append-only).

Every event carries the client's address and user agent when it is written during a request:
the view passes ``request=``, or :class:`~clotsafe.web.audit.middleware.AuditViewMiddleware`
supplies the request being served (a context variable), so services that know no request
(screenings, clearances, clinic settings) get them too. The middleware also counts the events of
the request, so it adds a page-view event only when the view wrote none.
"""

from __future__ import annotations

import contextvars
import csv
import io
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from axes.helpers import get_client_ip_address
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clinics.models import Clinic

CSV_HEADER = ("at", "clinic", "actor", "action", "target_type", "target_id", "detail",
              "ip_address", "user_agent", "changes")  # fmt: skip
#: a spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
USER_AGENT_MAX = 300


@dataclass
class RequestAudit:
    """The request being served and how many events it has written so far."""

    request: HttpRequest
    events: int = 0


_current: contextvars.ContextVar[RequestAudit | None] = contextvars.ContextVar(
    "clotsafe_audit_request", default=None
)


def begin(request: HttpRequest) -> tuple[RequestAudit, contextvars.Token[RequestAudit | None]]:
    state = RequestAudit(request)
    return state, _current.set(state)


def end(token: contextvars.Token[RequestAudit | None]) -> None:
    _current.reset(token)


def current_request() -> HttpRequest | None:
    state = _current.get()
    return state.request if state else None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as django-axes sees it (the same proxy settings for both:
    AXES_CLIENT_IP_CALLABLE); None when it is not an IP address."""
    address = str(get_client_ip_address(request) or "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def user_agent(request: HttpRequest) -> str:
    # a NUL byte (hostile header) is refused by PostgreSQL's text columns
    return str(request.META.get("HTTP_USER_AGENT", "")).replace("\x00", "")[:USER_AGENT_MAX]


def log(clinic: Clinic | None, user: AbstractBaseUser | AnonymousUser | None, action: str,
        target: Any = None, *, target_type: str = "", detail: str = "",
        actor: str = "", request: HttpRequest | None = None,
        changes: dict[str, Any] | None = None) -> AuditEvent:  # fmt: skip
    """Record one event. ``target`` is a model instance (its class name and pk are kept).

    ``request`` (by default the request being served, if any) supplies the client's address and
    user agent. ``changes``: {field: {"old": ..., "new": ...}} of a settings change.
    ``detail`` and ``changes`` never carry health data (docs/operations.md).
    """
    state = _current.get()
    request = request if request is not None else (state.request if state else None)
    if state is not None:
        state.events += 1
    real_user: Any = user if user is not None and user.is_authenticated else None
    if target is not None:
        target_type = target_type or type(target).__name__.lower()
    return AuditEvent.objects.create(
        clinic=clinic,
        clinic_name=clinic.name if clinic else "",
        user=real_user,
        actor=_text(actor or (real_user.get_username() if real_user else "anonymous"), 200),
        action=action,
        target_type=target_type[:50],
        target_id=str(getattr(target, "pk", "") or "")[:50],
        detail=_text(detail, 500),
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        changes=changes or {},
    )


def _text(value: str, limit: int) -> str:
    """Text as a database column takes it: no NUL byte (PostgreSQL refuses one), cut to size."""
    return value.replace("\x00", "")[:limit]


def export_rows(clinic: Clinic) -> Iterator[str]:
    """The clinic's audit log as CSV lines, oldest first (streamed)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEADER)
    yield _take(buf)
    events = AuditEvent.objects.filter(clinic=clinic).order_by("at", "id").iterator()
    for e in events:
        row = (e.at.isoformat(), clinic.name, e.actor, e.action, e.target_type, e.target_id,
               e.detail, e.ip_address or "", e.user_agent,
               json.dumps(e.changes, sort_keys=True) if e.changes else "")  # fmt: skip
        writer.writerow([csv_cell(str(v)) for v in row])
        yield _take(buf)


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: OWASP's advice for CSV injection, a leading single
    quote before a cell that starts like a formula (the quote is visible, nothing runs)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _take(buf: io.StringIO) -> str:
    value = buf.getvalue()
    buf.seek(0)
    buf.truncate(0)
    return value
