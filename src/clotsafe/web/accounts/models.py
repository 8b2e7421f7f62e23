"""What the accounts app keeps beside Django's user: whether the password must be changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PasswordState(models.Model):
    """A temporary password set by the clinic lead must be replaced at the next log-in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="password_state")  # fmt: skip
    must_change = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({'must change' if self.must_change else 'ok'})"
