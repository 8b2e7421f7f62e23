"""How many password reset mails may go out in an hour: per account, and per client address.

Without a limit anyone could flood a member's inbox by asking again and again, or many inboxes
from one address. The count is taken from the audit log, which records every reset mail with
the account and the address that asked: it holds across server processes and restarts, with no
table of its own. A mail over a limit is not sent, and the audit log says so; the person asking
sees the same page as always (no hint whether the address has an account, or was limited).

Two requests at the same instant may both pass the count: a limit of N may let N+1 through,
which is enough against flooding.
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.timezone import now

from clotsafe.web.audit.models import AuditEvent

#: the audit log's words for a reset mail sent, and for one held back by a limit
SENT = "password reset e-mail sent"
HELD_BACK = "password reset e-mail not sent: too many asked for in the last hour"
#: Django setting (or environment variable) -> its default
DEFAULTS = {
    "CLOTSAFE_RESET_MAILS_PER_ACCOUNT": 3,
    "CLOTSAFE_RESET_MAILS_PER_ADDRESS": 10,
}
WINDOW = timedelta(hours=1)


def defaults() -> dict[str, int]:
    return dict(DEFAULTS)


def configured(name: str) -> object:
    """The Django setting, else the environment variable (None or "" when neither is set)."""
    value = getattr(settings, name, None)
    return os.environ.get(name) if value is None else value


def parse(value: object) -> int | None:
    """A whole number of mails, 0 or more (0: no reset mails at all); None if it is not one."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def limit(name: str) -> int:
    """The configured limit, read per call (a settings change applies at once); the default
    when unset or not a number (the system check in accounts/checks.py names that mistake)."""
    raw = configured(name)
    number = None if raw in (None, "") else parse(raw)
    return DEFAULTS[name] if number is None else number


def allowed(user: User, address: str | None) -> bool:
    """Whether another reset mail for ``user``, asked for from ``address``, stays within both
    limits for the last hour."""
    sent = AuditEvent.objects.filter(detail=SENT, at__gte=now() - WINDOW)
    mine = sent.filter(target_type="account", target_id=str(user.pk))
    if mine.count() >= limit("CLOTSAFE_RESET_MAILS_PER_ACCOUNT"):
        return False
    if not address:
        return True
    return sent.filter(ip_address=address).count() < limit("CLOTSAFE_RESET_MAILS_PER_ADDRESS")
