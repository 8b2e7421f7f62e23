"""Record screenings (intake, before-session re-check, after a clearance) and compare them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from clotsafe.domain.questions import RED_FLAG_IDS
from clotsafe.web import engine
from clotsafe.web.audit.services import log
from clotsafe.web.clearances.models import Clearance
from clotsafe.web.clients.models import Client
from clotsafe.web.screenings.models import Screening


def today() -> date:
    return timezone.localdate()


@transaction.atomic
def record(client: Client, answers: Mapping[str, Any], *, kind: str, by: User | None,
           based_on: Screening | None = None, on: date | None = None,
           actor: str = "") -> Screening:  # fmt: skip
    """Evaluate the answers with the client's clearances and the clinic settings; store it all."""
    screened_on = on or today()
    clinic = client.clinic
    clearances = [c.to_intake_json() for c in
                  Clearance.objects.filter(client=client).order_by("date", "id")
                  if c.date <= screened_on]  # fmt: skip
    result = engine.run(answers, screened_on, settings_toml=clinic.settings_toml,
                        clearances=clearances)  # fmt: skip
    screening = Screening.objects.create(
        clinic=clinic, client=client, kind=kind, based_on=based_on, screened_on=screened_on,
        intake=result.intake, decision=result.decision, level=result.level,
        complete=result.complete, policy_version=result.policy_version,
        settings_toml=clinic.settings_toml, created_by=by,
    )  # fmt: skip
    client.latest_screening = screening
    client.level = screening.level
    client.save(update_fields=["latest_screening", "level"])
    log(clinic, by, "create", screening, actor=actor,
        detail=f"{kind} screening of client {client.pk}: {screening.level}")  # fmt: skip
    return screening


def recheck(client: Client, red_flags: Mapping[str, Any], *, by: User) -> Screening:
    """Before a session: the previous answers, with today's red-flag answers (POLICY §3)."""
    previous = client.latest_screening
    answers = dict(previous.answers) if previous else {}
    for qid in RED_FLAG_IDS:
        answers.pop(qid, None)
    answers.update(red_flags)
    return record(client, answers, kind=Screening.Kind.RECHECK, by=by, based_on=previous)


def history(client: Client) -> list[Screening]:
    return list(Screening.objects.filter(client=client).order_by("-created_at", "-id"))


@dataclass
class Change:
    level: tuple[str, str] | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    caps: list[tuple[str, int, int]] = field(default_factory=list)
    answers: list[tuple[str, Any, Any]] = field(default_factory=list)
    clearances: int = 0

    @property
    def empty(self) -> bool:
        return not (self.level or self.added or self.removed or self.caps or self.answers
                    or self.clearances)  # fmt: skip


def _rule_levels(decision: Mapping[str, Any]) -> dict[str, str]:
    return {r["rule"]: r["level"] for r in decision.get("reasons", [])}


def diff(before: Screening, after: Screening) -> Change:
    """What changed from one screening to the next: level, reasons, caps, answers."""
    change = Change()
    if before.level != after.level:
        change.level = (before.level, after.level)
    old, new = _rule_levels(before.decision), _rule_levels(after.decision)
    change.added = [f"{r} ({lvl})" for r, lvl in new.items() if old.get(r) != lvl]
    change.removed = [f"{r} ({lvl})" for r, lvl in old.items() if new.get(r) != lvl]
    old_caps = before.decision.get("plan", {}).get("pressure_max", {})
    for region, cap in after.decision.get("plan", {}).get("pressure_max", {}).items():
        if old_caps.get(region) != cap:
            change.caps.append((region, old_caps.get(region, 5), cap))
    a, b = before.answers, after.answers
    change.answers = [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b))
                      if a.get(k) != b.get(k)]  # fmt: skip
    change.clearances = len(after.intake.get("clearances", [])) - len(
        before.intake.get("clearances", [])
    )
    return change


def history_with_changes(client: Client) -> list[tuple[Screening, Change | None]]:
    items = history(client)
    out: list[tuple[Screening, Change | None]] = []
    for i, s in enumerate(items):
        older = items[i + 1] if i + 1 < len(items) else None
        out.append((s, diff(older, s) if older else None))
    return out
