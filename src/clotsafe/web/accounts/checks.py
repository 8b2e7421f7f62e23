"""Deployment checks. Behind a TLS proxy without CLOTSAFE_TRUSTED_PROXIES every visitor has the
proxy's address, so the per-address lockout would pause log-in for everyone at once.
And the reset mail limits must be whole numbers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from clotsafe.web.accounts import resetlimit


@register("security", deploy=False)
def trusted_proxies_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "HTTPS", False) and int(settings.TRUSTED_PROXIES) <= 0:
        return [
            Warning(
                "CLOTSAFE_HTTPS is on but CLOTSAFE_TRUSTED_PROXIES is 0: behind a reverse proxy "
                "every visitor has the proxy's address and the lockout treats them as one.",
                hint="Set CLOTSAFE_TRUSTED_PROXIES to the number of proxies in front of the "
                "app (docs/accounts.md).",
                id="clotsafe.accounts.W001",
            )
        ]
    if int(settings.TRUSTED_PROXIES) < 0:
        return [Warning("CLOTSAFE_TRUSTED_PROXIES is below 0; it is read as 0.",
                        id="clotsafe.accounts.W002")]  # fmt: skip
    return []


@register("security", deploy=False)
def reset_limits_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A reset mail limit that is not a whole number is named (the default is used instead)."""
    problems: list[CheckMessage] = []
    for name, default in resetlimit.defaults().items():
        raw = resetlimit.configured(name)
        if raw not in (None, "") and resetlimit.parse(raw) is None:
            problems.append(Warning(
                f"{name} must be a whole number of mails per hour (0 or more), not {raw!r}; "
                f"the default {default} is used.", id="clotsafe.accounts.W003"))  # fmt: skip
    return problems
