"""``clotsafe createclinic``: a clinic and its lead for a real deployment (docs/cli.md).

The demo of ``clotsafe serve`` is for trying clotsafe out; a real clinic starts here. The
checks come in two parts so the command can refuse a taken name before asking for a password.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clotsafe.web.accounts.validation import USERNAME, check_new_password
from clotsafe.web.audit.services import log
from clotsafe.web.clinics.models import EMERGENCY_NUMBER, Clinic, Membership
from clotsafe.web.clinics.services import add_member

NAME_MAX = 200  # Clinic.name
ACTOR = "command line (clotsafe createclinic)"


class ProvisionError(Exception):
    """The clinic could not be created; ``messages`` say why, in plain words."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def check_new(name: str, username: str, emergency_number: str = "911") -> None:
    """Refuse a bad or taken clinic name or username, or a bad emergency number."""
    problems = [*_name_problems(name), *_username_problems(username)]
    try:
        EMERGENCY_NUMBER(emergency_number)
    except ValidationError:
        problems.append(f"the emergency number must be 2 to 6 digits, e.g. 911 (got "
                        f"{emergency_number!r})")  # fmt: skip
    if problems:
        raise ProvisionError(*problems)


def _name_problems(name: str) -> list[str]:
    clean = name.strip()
    if not clean or len(clean) > NAME_MAX or not clean.isprintable():
        return [f"the clinic name must be 1 to {NAME_MAX} printable characters"]
    if Clinic.objects.filter(name__iexact=clean).exists():
        return [f"a clinic named {clean!r} already exists"]
    return []


def _username_problems(username: str) -> list[str]:
    """The team page's rule (accounts.validation.USERNAME): letters, digits and . _ -."""
    try:
        USERNAME(username)
    except ValidationError as exc:
        return [f"username {username!r}: {m}" for m in exc.messages]
    if User.objects.filter(username__iexact=username).exists():
        return [f"the username {username!r} is already taken"]
    return []


def check_password(username: str, password: str) -> None:
    """Django's password validators (settings.AUTH_PASSWORD_VALIDATORS), with the user, so the
    similarity check compares the password with the username (as the team page does)."""
    try:
        check_new_password(password, username=username)
    except ValidationError as exc:
        raise ProvisionError(*(f"password: {m}" for m in exc.messages)) from None


def create_clinic(name: str, username: str, password: str, *,
                  emergency_number: str = "911") -> Membership:  # fmt: skip
    """Create the clinic and its lead in one transaction, and write both to the audit log."""
    check_new(name, username, emergency_number)
    check_password(username, password)
    try:
        with transaction.atomic():
            return _create(name.strip(), username, password, emergency_number)
    except IntegrityError:  # the same username created meanwhile
        raise ProvisionError(f"the username {username!r} is already taken") from None


def _create(name: str, username: str, password: str, emergency_number: str) -> Membership:
    clinic = Clinic.objects.create(name=name, emergency_number=emergency_number)
    log(clinic, None, "create", clinic, actor=ACTOR, detail=f"clinic created with lead {username}")
    return add_member(clinic, username, password, role=Membership.Role.LEAD.value, actor=ACTOR)
