"""The client's intake draft: save answers as they go, check red flags at once, submit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from clotsafe.domain.errors import IntakeError
from clotsafe.web import engine
from clotsafe.web.audit.services import log
from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.intake import steps
from clotsafe.web.screenings import services as screenings
from clotsafe.web.screenings.models import Screening

ACTOR = "client (intake link)"


def save_draft(link: IntakeLink, answers: Mapping[str, Any]) -> dict[str, Any]:
    pruned = steps.prune(answers)
    link.answers = pruned
    fields = ["answers"]
    if link.started_at is None:
        link.started_at = timezone.now()
        fields.append("started_at")
    link.save(update_fields=fields)
    return pruned


def level_now(link: IntakeLink) -> str:
    """The level the answers so far lead to (red flags decide at once; nothing is stored)."""
    try:
        result = engine.run(link.answers, screenings.today(),
                            settings_toml=link.client.clinic.settings_toml)  # fmt: skip
    except IntakeError:
        return ""
    return result.level


def fired_rules(link: IntakeLink) -> set[str]:
    try:
        result = engine.run(link.answers, screenings.today(),
                            settings_toml=link.client.clinic.settings_toml)  # fmt: skip
    except IntakeError:
        return set()
    return {r["rule"] for r in result.decision["reasons"]}


@transaction.atomic
def submit(link: IntakeLink) -> Screening:
    link = IntakeLink.objects.select_for_update().get(pk=link.pk)
    screening = screenings.record(link.client, link.answers, kind=Screening.Kind.INTAKE, by=None,
                                  actor=ACTOR)  # fmt: skip
    link.submitted_at = timezone.now()
    link.save(update_fields=["submitted_at"])
    log(link.client.clinic, None, "submit", link, actor=ACTOR,
        detail=f"intake submitted for client {link.client_id}")  # fmt: skip
    return screening


def record_emergency(link: IntakeLink) -> None:
    """An emergency red flag is recorded at once as an (incomplete) intake screening, so the
    therapist sees it even if the client never finishes; the link stays open."""
    latest = link.client.latest_screening
    if (latest is not None and latest.kind == Screening.Kind.INTAKE
            and latest.level == "emergency" and latest.created_at >= link.created_at):  # fmt: skip
        return
    screenings.record(link.client, link.answers, kind=Screening.Kind.INTAKE, by=None,
                      actor=ACTOR)  # fmt: skip
    log(link.client.clinic, None, "submit", link, actor=ACTOR,
        detail=f"emergency red flag reported for client {link.client_id} (intake not finished)")


def submitted_screening(link: IntakeLink) -> Screening | None:
    return (Screening.objects.filter(client=link.client, kind=Screening.Kind.INTAKE,
                                     created_at__gte=link.created_at)
            .order_by("-created_at").first())  # fmt: skip
