"""Login lockout that an attacker cannot turn against a user (django-axes with one addition).

django-axes counts failures per username + address (``AXES_LOCKOUT_PARAMETERS``): guessing a
user's password from one address locks only that address out of that account, and the user
still logs in from anywhere else. It compares one count with one limit, so the second rule, a
higher limit per address across all usernames (``LOCKOUT_ADDRESS_FAILURE_LIMIT``, against
spraying one guess over many accounts), is added here by scaling the address's count onto the
same limit: ``address * pair_limit // address_limit >= pair_limit`` holds exactly when
``address >= address_limit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


class LockoutHandler(AxesDatabaseHandler):
    """The database handler, with failures from the address across usernames counted too."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        pair = super().get_failures(request, credentials)
        pair_limit = get_failure_limit(request, credentials)
        address_limit = int(settings.LOCKOUT_ADDRESS_FAILURE_LIMIT)
        scaled = address_failures(request) * pair_limit // address_limit
        return int(max(pair, scaled))


def address_failures(request: HttpRequest) -> int:
    """Failed log-ins from the request's address within the cool-off time, for any username."""
    recent = AccessAttempt.objects.filter(
        ip_address=getattr(request, "axes_ip_address", None),
        attempt_time__gte=get_cool_off_threshold(request),
    )
    return int(recent.aggregate(n=Sum("failures_since_start"))["n"] or 0)


def locked_usernames(usernames: Iterable[str]) -> set[str]:
    """Which of these usernames are locked out from at least one address right now."""
    cool_off = get_cool_off()
    since = timezone.now() - cool_off if cool_off else None
    attempts = AccessAttempt.objects.filter(
        username__in=list(usernames), failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    if since is not None:
        attempts = attempts.filter(attempt_time__gte=since)
    return set(attempts.values_list("username", flat=True))


def unlock(username: str) -> int:
    """Forget the username's failed log-ins from every address; how many records went."""
    return int(reset(username=username))
