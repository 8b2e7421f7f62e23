"""A demo clinic (idempotent): a lead/therapist login and clients covering each level.

The answers are made-up vignettes, not real people. The password is generated once per install
and kept in the data dir (``demo-login.txt``, mode 0600): no password is in the repository.
"""

from __future__ import annotations

import os
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from clotsafe.web.clients.models import Client
from clotsafe.web.clients.services import create_link
from clotsafe.web.clinics.models import Clinic, Membership
from clotsafe.web.screenings import services as screenings
from clotsafe.web.screenings.models import Screening

DEMO_CLINIC = "Demo Massage Clinic"
DEMO_USER = "demo"

_NO_FLAGS = {q: "no" for q in ("rf_breathless", "rf_chest_pain", "rf_cough_blood", "rf_faint",
                               "rf_heart_racing", "rf_stroke_signs", "rf_limb_swelling",
                               "rf_limb_pain", "rf_limb_skin", "rf_hard_vein")}  # fmt: skip
_BASE = {**_NO_FLAGS, "clot_ever": "no", "anticoagulant": "no", "antiplatelet": "no",
         "surgery_recent": "no", "leg_injury": "no", "cancer_active": "no", "pregnant": "no",
         "gave_birth": "no", "age": 34, "sex": "female"}  # fmt: skip


def _vignettes(today: date) -> list[tuple[str, dict[str, Any]]]:
    ago = lambda days: (today - timedelta(days=days)).isoformat()  # noqa: E731
    return [
        ("Alex Standard (demo)", dict(_BASE)),
        ("Blair Adapt (demo)", {**_BASE, "anticoagulant": "yes", "rf_unusual_bleeding": "no",
                                "anticoagulant_names": ["apixaban"]}),
        ("Casey Clearance (demo)", {**_BASE, "clot_ever": "yes", "anticoagulant": "yes",
                                    "rf_unusual_bleeding": "no", "clots": [
                                        {"kind": "dvt", "site": "left_calf",
                                         "diagnosed_on": ago(30), "treatment": "ongoing"}]}),
        ("Devon Urgent (demo)", {**_BASE, "rf_limb_swelling": "yes",
                                 "rf_limb_site": ["left_calf"]}),
        ("Emery Emergency (demo)", {**_BASE, "rf_breathless": "yes"}),
        ("Frankie Incomplete (demo)", {"rf_breathless": "no", "clot_ever": "no"}),
    ]  # fmt: skip


def _password_file() -> Path:
    return Path(settings.DATA_DIR) / "demo-login.txt"


def _password() -> str:
    path = _password_file()
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password)
    return password


@transaction.atomic
def ensure_demo() -> tuple[str, str]:
    """Create the demo clinic once; return (username, password)."""
    password = _password()
    clinic, _ = Clinic.objects.get_or_create(
        name=DEMO_CLINIC,
        defaults={
            "address": "1 Example Street\nDemo Town",
            "phone": "555-0100",
            "emergency_number": "911",
        },
    )
    user = User.objects.filter(username=DEMO_USER).first()
    if user is None:
        user = User.objects.create_user(DEMO_USER, password=password, first_name="Demo",
                                        last_name="Therapist")  # fmt: skip
        Membership.objects.create(user=user, clinic=clinic, role=Membership.Role.LEAD)
    if not Client.objects.filter(clinic=clinic).exists():
        for i, (name, answers) in enumerate(_vignettes(screenings.today())):
            client = Client.objects.create(clinic=clinic, name=name, created_by=user,
                                           **_contact(name, i))  # fmt: skip
            screenings.record(client, answers, kind=Screening.Kind.DEMO, by=user)
        pending = Client.objects.create(clinic=clinic, name="Gale Not-yet-screened (demo)",
                                        created_by=user, **_contact("Gale", 7))  # fmt: skip
        create_link(pending, by=user)
    return DEMO_USER, password


def _contact(name: str, i: int) -> dict[str, Any]:
    """Made-up contact details (example.org addresses, 555 numbers)."""
    first = name.split()[0].lower()
    return {"date_of_birth": date(1960 + 4 * i, 1 + i, 10 + i), "email": f"{first}@example.org",
            "phone": f"555-01{i:02d}"}  # fmt: skip


def _changed_answer(client: Client, user: User) -> None:
    """The client answered yes to sudden breathlessness, saw the emergency screen, changed the
    answer to no and confirmed the answers: the therapist must acknowledge it (issue 8 §1.3)."""
    from django.utils import timezone

    from clotsafe.web.intake.models import Consent, RedFlagReport

    link, _ = create_link(client, by=user)
    at = timezone.now() - timedelta(minutes=20)
    RedFlagReport.objects.create(
        link=link, question_id="rf_breathless", answer="yes", answered_at=at,
        shown_level="emergency", shown_text=f"Call {client.clinic.emergency_number} now",
        changed_to="no", changed_at=at + timedelta(minutes=1),
    )  # fmt: skip
    Consent.objects.create(
        link=link,
        name=client.name.split()[0],
        confirmed_at=at + timedelta(minutes=6),
        statement="These are my answers and they are true as far as I know.",
    )
    link.submitted_at = at + timedelta(minutes=6)
    link.save(update_fields=["submitted_at"])
