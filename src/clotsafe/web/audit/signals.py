"""Log-ins, log-outs, failed log-ins and changes of a clinic's settings go to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from clotsafe.web.audit.services import log
from clotsafe.web.clinics.models import Clinic, Membership

#: the attempted username is kept this long (it may be a mistyped password: not more)
ATTEMPT_MAX = 60
#: the clinic fields whose changes are recorded with their old and new values
SETTINGS_FIELDS = ("settings_toml", "emergency_number", "units")


def clinic_of(user: Any) -> Any:
    """The user's clinic for the audit log, deactivated or not (one membership per user)."""
    membership = Membership.objects.filter(user=user).select_related("clinic").first()
    return membership.clinic if membership else None


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log(clinic_of(user), user, "login", target_type="session", request=request)


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        log(clinic_of(user), user, "logout", target_type="session", request=request)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None,
                    **kwargs: Any) -> None:  # fmt: skip
    """Who tried (the username typed, shortened), from where; the clinic of that user, if one
    exists, so that the clinic lead sees attempts on the team's accounts."""
    attempted = str(credentials.get("username") or "")
    user = get_user_model().objects.filter(username=attempted).first() if attempted else None
    shown = attempted[:ATTEMPT_MAX] + ("…" if len(attempted) > ATTEMPT_MAX else "")
    log(clinic_of(user) if user else None, None, "login_failed", target_type="session",
        actor="anonymous", detail=f"failed log-in as {shown!r}", request=request)  # fmt: skip


@receiver(pre_save, sender=Clinic)
def remember_settings(sender: Any, instance: Clinic, **kwargs: Any) -> None:
    """Keep the stored settings on the instance, to compare after the save."""
    old = Clinic.objects.filter(pk=instance.pk).values(*SETTINGS_FIELDS).first()
    instance._audit_old_settings = old  # type: ignore[attr-defined]


@receiver(post_save, sender=Clinic)
def record_settings_change(sender: Any, instance: Clinic, created: bool, **kwargs: Any) -> None:
    """A settings change, with the old and new settings (by whoever is serving the request)."""
    old = getattr(instance, "_audit_old_settings", None)
    if created or not old:
        return
    changes = {f: {"old": old[f], "new": getattr(instance, f)} for f in SETTINGS_FIELDS
               if old[f] != getattr(instance, f)}  # fmt: skip
    if changes:
        from clotsafe.web.audit.services import current_request

        request = current_request()
        user = getattr(request, "user", None)
        log(instance, user, "change", instance, detail="settings changed: " + ", ".join(changes),
            changes=changes)  # fmt: skip
