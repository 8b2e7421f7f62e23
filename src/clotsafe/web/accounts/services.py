"""Account actions, each written to the audit log: unlock, temporary password, password
changed or reset, reset mails sent or held back, two-factor on and off."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import User
from django.http import HttpRequest

from clotsafe.web.accounts import lockout, resetlimit
from clotsafe.web.accounts.models import PasswordState
from clotsafe.web.audit.services import log
from clotsafe.web.audit.signals import clinic_of
from clotsafe.web.clinics.models import Membership

#: no 0/O, 1/l/I: a temporary password is read out or copied by hand
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """Three groups of five (about 74 random bits), e.g. ``k7mqp-x2hrt-9zvaw``."""
    groups = ("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(3))
    return "-".join(groups)


def set_temporary_password(member: Membership, *, by: User, request: HttpRequest) -> str:
    """A new random password that must be changed at the next log-in; unlocks the account.
    Changing the password ends the member's other sessions (Django's session hash)."""
    password = temporary_password()
    user = member.user
    user.set_password(password)
    user.save(update_fields=["password"])
    PasswordState.objects.update_or_create(user=user, defaults={"must_change": True})
    lockout.unlock(user.get_username())
    log(member.clinic, by, "change", member, request=request,
        detail=f"set a temporary password for {user.get_username()}")  # fmt: skip
    return password


def must_change_password(user: User) -> bool:
    return PasswordState.objects.filter(user=user, must_change=True).exists()


def password_changed(user: User, *, how: str, request: HttpRequest) -> None:
    """After a change or a reset: the temporary password is gone and so are the failed log-ins."""
    PasswordState.objects.filter(user=user).update(must_change=False)
    lockout.unlock(user.get_username())
    log(clinic_of(user), user, "change", user, target_type="account", request=request,
        detail=f"password {how}")  # fmt: skip


def unlock_member(member: Membership, *, by: User, request: HttpRequest) -> int:
    removed = lockout.unlock(member.user.get_username())
    log(member.clinic, by, "change", member, request=request,
        detail=f"unlocked {member.user.get_username()}")  # fmt: skip
    return removed


def reset_mail_sent(user: User, request: HttpRequest | None) -> None:
    """Recorded with the asking address: resetlimit counts these events."""
    log(clinic_of(user), None, "change", user, target_type="account", request=request,
        actor="anonymous", detail=resetlimit.SENT)  # fmt: skip


def reset_mail_held_back(user: User, request: HttpRequest | None) -> None:
    log(clinic_of(user), None, "change", user, target_type="account", request=request,
        actor="anonymous", detail=resetlimit.HELD_BACK)  # fmt: skip


def email_changed(user: User, request: HttpRequest) -> None:
    log(clinic_of(user), user, "change", user, target_type="account", request=request,
        detail="e-mail for password resets changed")  # fmt: skip
