"""Record a clinician's answer as a clearance, then re-evaluate the client's screening."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from clotsafe.domain.errors import FieldError, IntakeError
from clotsafe.web import engine
from clotsafe.web.audit.services import log
from clotsafe.web.clearances.models import Clearance
from clotsafe.web.clients.models import Client
from clotsafe.web.screenings import services as screenings
from clotsafe.web.screenings.models import Screening


def clearable(screening: Screening) -> list[dict[str, Any]]:
    """The reasons of a screening that a clearance can cover (clearance_required, not red flags)."""
    return engine.clearable_reasons(screening.decision)


def check(client: Client, data: dict[str, Any]) -> list[FieldError]:
    """The engine's field errors for this clearance, checked on the client's latest answers."""
    latest = client.latest_screening
    answers = latest.answers if latest else {}
    try:  # a clearance dated after today is an input error (impossible_date)
        engine.run(answers, screenings.today(), clearances=[_json(data)])
    except IntakeError as exc:
        return list(exc.errors)
    return []


def _json(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rules": data["rules"], "clinician": data["clinician"],
        "date": data["date"].isoformat(), "restrictions": data["restrictions"],
    }  # fmt: skip
    if data.get("valid_until"):
        out["valid_until"] = data["valid_until"].isoformat()
    return out


@transaction.atomic
def record(client: Client, data: dict[str, Any], *, by: User) -> tuple[Clearance, Screening]:
    valid_until: date | None = data.get("valid_until")
    clearance = Clearance.objects.create(
        clinic=client.clinic, client=client, rules=data["rules"], clinician=data["clinician"],
        date=data["date"], valid_until=valid_until, restrictions=data["restrictions"],
        recorded_by=by,
    )  # fmt: skip
    log(client.clinic, by, "create", clearance,
        detail=f"clearance for client {client.pk}")  # fmt: skip
    latest = client.latest_screening
    answers = latest.answers if latest else {}
    screening = screenings.record(client, answers, kind=Screening.Kind.CLEARANCE, by=by,
                                  based_on=latest)  # fmt: skip
    return clearance, screening
