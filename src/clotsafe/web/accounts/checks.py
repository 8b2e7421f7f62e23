"""A deployment check: behind a TLS proxy without CLOTSAFE_TRUSTED_PROXIES every visitor has the
proxy's address, so the per-address lockout would pause log-in for everyone at once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register


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
