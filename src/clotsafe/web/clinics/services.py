"""Clinic membership, therapists and the clinic's stricter settings."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from clotsafe.domain.errors import FieldError
from clotsafe.knowledge import rules as rule_info
from clotsafe.knowledge import windows as window_info
from clotsafe.render import present
from clotsafe.rules.settings import DEFAULT_SETTINGS
from clotsafe.web import engine
from clotsafe.web.accounts import lockout
from clotsafe.web.audit.services import log
from clotsafe.web.clinics.models import Clinic, Membership

#: the 403 page's reason for a member of a deactivated clinic
CLINIC_DEACTIVATED = (
    "This clinic is deactivated: its pages cannot be opened. Its records are kept; "
    "the person who runs clotsafe can reactivate it."
)
NO_CLINIC = "This account does not belong to a clinic."


def membership_of(user: User) -> Membership | None:
    """The user's membership, if the user is active and so is their clinic. Every page
    (access.clinic_view) and every API token (api/tokens.authenticate) goes through here."""
    if not user.is_authenticated or not user.is_active:
        return None
    return (Membership.objects.select_related("clinic")
            .filter(user=user, clinic__is_active=True).first())  # fmt: skip


def refusal(user: User) -> str:
    """Why :func:`membership_of` found no membership, in words for the 403 page."""
    if Membership.objects.filter(user_id=user.pk, clinic__is_active=False).exists():
        return CLINIC_DEACTIVATED
    return NO_CLINIC


def set_clinic_active(clinic: Clinic, active: bool, *, by: User | None,
                      request: HttpRequest | None = None) -> None:  # fmt: skip
    """The operator's switch (the admin's actions); a clinic already so is left alone."""
    if clinic.is_active == active:
        return
    clinic.is_active = active
    clinic.save(update_fields=["is_active"])
    record_switch(clinic, by=by, request=request)


def record_switch(clinic: Clinic, *, by: User | None, request: HttpRequest | None) -> None:
    """Audited under the clinic, so its lead's export shows when and by whom."""
    log(clinic, by, "change", clinic, request=request,
        detail=f"clinic {'reactivated' if clinic.is_active else 'deactivated'}")  # fmt: skip


@transaction.atomic
def add_member(clinic: Clinic, username: str, password: str, *, role: str = "therapist",
               full_name: str = "", email: str = "",
               by: User | None = None, actor: str = "") -> Membership:  # fmt: skip
    first, _, last = full_name.partition(" ")
    user = User.objects.create_user(username=username, password=password, email=email,
                                    first_name=first, last_name=last)  # fmt: skip
    membership = Membership.objects.create(user=user, clinic=clinic, role=role)
    log(clinic, by, "create", membership, detail=f"added {role} {username}", actor=actor)
    return membership


def team_rows(clinic: Clinic) -> list[dict[str, Any]]:
    """The team page's table: each member, locked out or not, with two-factor or not."""
    members = list(Membership.objects.filter(clinic=clinic).select_related("user")
                   .order_by("user__username"))  # fmt: skip
    locked = lockout.locked_usernames(m.user.get_username() for m in members)
    with_2fa = set(TOTPDevice.objects.filter(user__membership__clinic=clinic, confirmed=True)
                   .values_list("user_id", flat=True))  # fmt: skip
    return [{"m": m, "locked": m.user.get_username() in locked, "two_factor": m.user_id in with_2fa}
            for m in members]  # fmt: skip


def set_active(membership: Membership, active: bool, *, by: User) -> None:
    user = membership.user
    user.is_active = active
    user.save(update_fields=["is_active"])
    log(
        membership.clinic,
        by,
        "change",
        membership,
        detail=f"{'activated' if active else 'deactivated'} {user.get_username()}",
    )


def set_reset_email(membership: Membership, email: str, *, by: User,
                    request: HttpRequest | None = None) -> None:  # fmt: skip
    """The lead's change of a member's reset address; the log names whose, not the address."""
    user = membership.user
    user.email = email
    user.save(update_fields=["email"])
    log(membership.clinic, by, "change", membership, request=request,
        detail=f"changed the e-mail for password resets of {user.get_username()}")  # fmt: skip


def update_settings(clinic: Clinic, *, settings_toml: str, emergency_number: str,
                    by: User, units: str | None = None) -> list[FieldError]:  # fmt: skip
    """Save stricter settings if the engine accepts them; return the engine's errors otherwise."""
    errors = engine.settings_errors(settings_toml)
    if errors:
        return errors
    # one save: the audit signal (audit/signals.py) records the old and new values, with `by`
    clinic.settings_toml = settings_toml
    clinic.emergency_number = emergency_number
    if units is not None:
        clinic.units = units
    clinic.save(update_fields=["settings_toml", "emergency_number", "units"])
    return []


def settings_reference() -> dict[str, Any]:
    """What the settings help page lists: each window (policy value, which way it may move, the
    rules using it) and each rule a clinic may set (its level and its summary in words)."""
    windows = [{"name": w.name, "value": f"{w.value:g}", "stricter": w.stricter,
                "rules": ", ".join(w.rules)} for w in window_info().values()]  # fmt: skip
    rules = [{"id": r.id, "level": present.level_label(r.level), "red_flag": r.red_flag,
              "summary": present.fill(r.summary, **DEFAULT_SETTINGS.windows.texts())}
             for r in rule_info().values() if r.id != "CLEARANCE-RESTRICTIONS"]  # fmt: skip
    return {"windows": windows, "rules": rules}
