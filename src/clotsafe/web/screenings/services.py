"""Record screenings (intake, before-session re-check, after a clearance) and compare them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clotsafe.domain.decision import Decision
from clotsafe.domain.questions import BY_ID, RED_FLAG_IDS
from clotsafe.domain.types import Level
from clotsafe.render import present
from clotsafe.web import engine
from clotsafe.web.audit.services import log
from clotsafe.web.clearances.models import Clearance
from clotsafe.web.clients.models import Client
from clotsafe.web.screenings import readback
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
        detail=f"{kind} screening of client {client.pk}")  # fmt: skip
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


def previous(screening: Screening) -> Screening | None:
    """The client's screening made just before this one."""
    return (Screening.objects.filter(client_id=screening.client_id)
            .filter(Q(created_at__lt=screening.created_at)
                    | Q(created_at=screening.created_at, id__lt=screening.pk))
            .order_by("-created_at", "-id").first())  # fmt: skip


@dataclass
class Change:
    """What changed from one screening to the next, in words only."""

    #: (level before, level now) as the therapist reads them
    level: tuple[str, str] | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: "Left calf or shin: 3 → 0"
    caps: list[str] = field(default_factory=list)
    #: "Is one leg or one arm swollen? No → Yes"
    answers: list[str] = field(default_factory=list)
    clearances: int = 0

    @property
    def empty(self) -> bool:
        return not (self.level or self.added or self.removed or self.caps or self.answers
                    or self.clearances)  # fmt: skip


def _decision(s: Screening) -> Decision:
    return Decision.from_json(s.decision, screened_on=s.screened_on)


def _rule_levels(d: Decision) -> dict[str, Level]:
    return {r.rule: r.level for r in d.reasons}


def _answer_change(qid: str, a: Any, b: Any) -> str:
    label = readback.question_words(qid) if qid in BY_ID else present.path_words(qid)
    if qid in BY_ID:
        return f"{label} {readback.answer_words(qid, a)} → {readback.answer_words(qid, b)}"
    return f"{label} {present.value_words(qid, a)} → {present.value_words(qid, b)}"


def diff(before: Screening, after: Screening) -> Change:
    """What changed from one screening to the next: level, reasons, caps, answers."""
    change = Change()
    old_d, new_d = _decision(before), _decision(after)
    if old_d.level is not new_d.level:
        change.level = (present.level_label(old_d.level), present.level_label(new_d.level))
    old, new = _rule_levels(old_d), _rule_levels(new_d)
    change.added = [f"{r} ({present.level_label(lv)})" for r, lv in new.items()
                    if old.get(r) is not lv]  # fmt: skip
    change.removed = [f"{r} ({present.level_label(lv)})" for r, lv in old.items()
                      if new.get(r) is not lv]  # fmt: skip
    old_caps = old_d.plan.pressure_max
    for region, cap in new_d.plan.pressure_max.items():
        if old_caps.get(region) != cap:
            change.caps.append(f"{present.region_label(region)}: {old_caps.get(region, 5)} → {cap}")
    a, b = before.answers, after.answers
    change.answers = [_answer_change(k, a.get(k), b.get(k)) for k in _in_order(set(a) | set(b))
                      if a.get(k) != b.get(k)]  # fmt: skip
    change.clearances = len(after.intake.get("clearances", [])) - len(
        before.intake.get("clearances", [])
    )
    return change


def _in_order(qids: set[str]) -> list[str]:
    """Question ids in the question bank's order (unknown ones last, by name)."""
    order = {q: i for i, q in enumerate(BY_ID)}
    return sorted(qids, key=lambda q: (order.get(q, len(order)), q))


def history_with_changes(client: Client) -> list[tuple[Screening, Change | None]]:
    items = history(client)
    out: list[tuple[Screening, Change | None]] = []
    for i, s in enumerate(items):
        older = items[i + 1] if i + 1 < len(items) else None
        out.append((s, diff(older, s) if older else None))
    return out
