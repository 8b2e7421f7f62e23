"""Log-ins and log-outs go to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from clotsafe.web.audit.services import log
from clotsafe.web.clinics.models import Membership


def _clinic(user: Any) -> Any:
    membership = Membership.objects.filter(user=user).select_related("clinic").first()
    return membership.clinic if membership else None


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log(_clinic(user), user, "login", target_type="session")


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        log(_clinic(user), user, "logout", target_type="session")
