"""evaluate(intake, at=..., settings=...) -> Decision: every rule, combined (POLICY §1–§5)."""

from __future__ import annotations

from datetime import date
from typing import Any

from clotsafe import POLICY_VERSION
from clotsafe.domain.decision import Decision, Plan, Reason
from clotsafe.domain.intake import Answers, Clearance, Intake
from clotsafe.domain.questions import ALWAYS_REQUIRED, BY_ID, PREGNANCY_REQUIRED
from clotsafe.domain.types import LEVEL_URGENCY, Level, Urgency
from clotsafe.knowledge import RuleInfo
from clotsafe.knowledge import rules as rule_info
from clotsafe.rules import builtin  # noqa: F401  (registers the shipped rules)
from clotsafe.rules.plan import PlanPart, combine, no_massage_plan
from clotsafe.rules.registry import RULES, TRIGGERS, Ctx, Firing, active_answers
from clotsafe.rules.settings import DEFAULT_SETTINGS, Settings

_ORDER = {rid: i for i, rid in enumerate(rule_info())}
_Q_ORDER = {qid: i for i, qid in enumerate(BY_ID)}


def evaluate(
    intake: Intake, *, at: date | None = None, settings: Settings = DEFAULT_SETTINGS
) -> Decision:
    """Apply the policy to one intake. Pure: the date is passed in (default: screened_on)."""
    on = at or intake.screened_on
    ctx = Ctx(intake.answers, on, settings.windows)
    info = rule_info()
    valid, expired = _clearances(intake.clearances, on, settings.clearance_valid_days)
    reasons: list[Reason] = []
    parts: list[PlanPart] = []
    active = active_answers(intake.answers)
    for rid, fn in RULES.items():
        needs = TRIGGERS[rid]
        if needs is not None and needs.isdisjoint(active):
            continue
        fired = fn(ctx)
        if fired is None:
            continue
        reasons.append(_reason(info[rid], fired, settings, valid))
        parts.append(_with_settings(fired.part, settings, rid))
    reasons.sort(key=lambda r: (-r.level.rank, _ORDER[r.rule]))
    level = reasons[0].level if reasons else Level.STANDARD
    pending = pending_questions(intake.answers)
    return Decision(
        policy_version=POLICY_VERSION,
        screened_on=on,
        level=level,
        complete=not pending,
        pending_questions=pending,
        reasons=tuple(reasons),
        plan=_plan(level, parts, _applying(valid, reasons), bool(reasons)),
        referral=_referral(reasons, parts),
        scores={"caprini": ctx.caprini},
        expired_clearances=tuple(expired),
        settings_name=settings.name,
    )


def _reason(
    info: RuleInfo, fired: Firing, settings: Settings, valid: list[tuple[Clearance, date]]
) -> Reason:
    raised = settings.rules.get(info.id)
    rule_level = raised.level if raised and raised.level else info.level
    level, cleared_by = rule_level, None
    if rule_level is Level.CLEARANCE_REQUIRED:
        for c, until in valid:
            if info.id in c.rules:
                level = Level.ADAPT
                cleared_by = {
                    "clinician": c.clinician,
                    "date": c.date.isoformat(),
                    "valid_until": until.isoformat(),
                }
                break
    return Reason(
        rule=info.id,
        level=level,
        summary=info.summary,
        sources=info.sources,
        policy_choice=info.policy_choice,
        rule_level=rule_level,
        answers=fired.answers,
        assumptions=tuple(fired.assumptions),
        policy_note=info.policy_note,
        cleared_by=cleared_by,
        default_level=info.level if rule_level != info.level else None,
    )


def _with_settings(part: PlanPart, settings: Settings, rid: str) -> PlanPart:
    extra = settings.rules.get(rid)
    if extra is None:
        return part
    for region, cap in extra.pressure_max.items():
        part.cap((region,), cap)
    part.avoid_regions(extra.avoid)
    m = extra.session_minutes_max
    if m is not None and (part.session_minutes_max is None or m < part.session_minutes_max):
        part.session_minutes_max = m
    return part


def _clearances(
    clearances: tuple[Clearance, ...], on: date, default_days: int
) -> tuple[list[tuple[Clearance, date]], list[dict[str, Any]]]:
    valid, expired = [], []
    for c in clearances:
        until = c.expires_on(default_days)
        if c.date <= on <= until:
            valid.append((c, until))
        else:
            expired.append(
                {
                    "rules": sorted(c.rules),
                    "clinician": c.clinician,
                    "date": c.date.isoformat(),
                    "valid_until": until.isoformat(),
                }
            )
    return valid, expired


def _applying(
    valid: list[tuple[Clearance, date]], reasons: list[Reason]
) -> list[tuple[Clearance, date]]:
    """Clearances whose restrictions apply: those covering a rule that fired (POLICY §5: the
    covered rule's once-cleared plan, combined with the clinician's restrictions)."""
    fired = {r.rule for r in reasons}
    return [(c, until) for c, until in valid if not c.rules.isdisjoint(fired)]


def _plan(
    level: Level, parts: list[PlanPart], valid: list[tuple[Clearance, date]], rescreen: bool
) -> Plan:
    if level >= Level.URGENT_REFERRAL:
        return no_massage_plan(parts)
    for c, _ in valid:
        part = PlanPart(dict(c.pressure_max), set(c.avoid))
        if c.notes:
            part.note(f"Clinician ({c.clinician}, {c.date.isoformat()}): {c.notes}")
        parts = [*parts, part]
    return combine(parts, rescreen=rescreen)


def _referral(reasons: list[Reason], parts: list[PlanPart]) -> Urgency:
    urgency = Urgency.NONE
    for r in reasons:
        u = LEVEL_URGENCY[r.level]
        if u.rank > urgency.rank:
            urgency = u
    if urgency is Urgency.NONE and any(p.referral_suggested for p in parts):
        urgency = Urgency.SUGGESTED
    return urgency


def pending_questions(a: Answers) -> tuple[str, ...]:
    """The INTAKE.md "complete" questions that are still unanswered, in question-bank order."""
    missing = {q for q in ALWAYS_REQUIRED if q not in a}
    if _medicated(a) and "rf_unusual_bleeding" not in a:
        missing.add("rf_unusual_bleeding")
    if a.yes("clot_ever") and not a.clots():
        missing.add("clots")
    if not _pregnancy_exempt(a):
        missing.update(q for q in PREGNANCY_REQUIRED if q not in a)
    return tuple(sorted(missing, key=_Q_ORDER.__getitem__))


def _medicated(a: Answers) -> bool:
    return any(a.yes(q) for q in ("anticoagulant", "antiplatelet")) or bool(
        a.names("anticoagulant_names") or a.names("antiplatelet_names")
    )


def _pregnancy_exempt(a: Answers) -> bool:
    age = a.get("age")
    return a.get("sex") == "male" or (age is not None and (age < 12 or age > 55))
