"""evaluate(intake, at=..., settings=...) -> Decision: every rule, combined (POLICY §1–§5)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from clotsafe import POLICY_VERSION
from clotsafe.domain.decision import Decision, Plan, Reason
from clotsafe.domain.intake import Answers, Clearance, Intake
from clotsafe.domain.questions import ALWAYS_REQUIRED, BY_ID, PREGNANCY_REQUIRED
from clotsafe.domain.types import LEVEL_URGENCY, Level, Urgency
from clotsafe.knowledge import RuleInfo, fill
from clotsafe.knowledge import rules as rule_info
from clotsafe.rules.plan import PlanPart, combine, no_massage_plan
from clotsafe.rules.registry import (
    Ctx,
    Event,
    Firing,
    RuleRegistry,
    active_answers,
    builtin_rules,
)
from clotsafe.rules.settings import CLEARANCE_DEFAULT_DAYS, DEFAULT_SETTINGS, Settings, Windows

_ORDER = {rid: i for i, rid in enumerate(rule_info())}
_Q_ORDER = {qid: i for i, qid in enumerate(BY_ID)}
RESTRICTIONS = "CLEARANCE-RESTRICTIONS"


def evaluate(
    intake: Intake,
    *,
    at: date | None = None,
    settings: Settings = DEFAULT_SETTINGS,
    rules: RuleRegistry | None = None,
) -> Decision:
    """Apply the policy to one intake. Pure: the date is passed in (default: screened_on), and
    so are the rules (default: the built-in rules of POLICY §3)."""
    on = at or intake.screened_on
    ctx = Ctx(intake.answers, on, settings.windows)
    info = rule_info()
    valid, expired = clearance_validity(intake.clearances, on, settings.clearance_valid_days)
    reasons: list[Reason] = []
    parts: list[PlanPart] = []
    unapplied: list[dict[str, Any]] = []
    active = active_answers(intake.answers)
    for rule in builtin_rules() if rules is None else rules:
        if rule.triggers is not None and rule.triggers.isdisjoint(active):
            continue
        fired = rule.fn(ctx)
        if fired is None:
            continue
        meta = rule.info or info[rule.id]
        reasons.append(_reason(meta, fired, settings, valid, unapplied))
        parts.append(_with_settings(fired.part, settings, rule.id))
    for c, until in valid:
        if c.pressure_max or c.avoid or c.notes:
            reasons.append(_restrictions_reason(info[RESTRICTIONS], c, until, settings))
            parts.append(_restrictions_part(c))
    reasons.sort(key=lambda r: (-r.level.rank, _ORDER.get(r.rule, len(_ORDER))))
    level = reasons[0].level if reasons else Level.STANDARD
    pending = pending_questions(intake.answers)
    return Decision(
        policy_version=POLICY_VERSION,
        screened_on=on,
        level=level,
        complete=not pending,
        pending_questions=pending,
        reasons=tuple(reasons),
        plan=_plan(level, parts, bool(reasons)),
        referral=_referral(reasons, parts),
        scores={"caprini": ctx.caprini},
        expired_clearances=tuple(expired),
        settings_name=settings.name,
        unapplied_clearances=tuple(unapplied),
    )


@lru_cache(maxsize=1024)
def rule_texts(info: RuleInfo, windows: Windows) -> tuple[str, str]:
    """(summary, policy_note) of a rule with the numbers in force filled in."""
    values = windows.texts()
    return fill(info.summary, info, values), fill(info.policy_note, info, values)


def _reason(
    info: RuleInfo,
    fired: Firing,
    settings: Settings,
    valid: list[tuple[Clearance, date]],
    unapplied: list[dict[str, Any]],
) -> Reason:
    raised = settings.rules.get(info.id)
    rule_level = raised.level if raised and raised.level else info.level
    cleared_by = _cover(info.id, rule_level, fired, valid, unapplied)
    summary, note = rule_texts(info, settings.windows)
    return Reason(
        rule=info.id,
        level=Level.ADAPT if cleared_by else rule_level,
        summary=summary,
        sources=info.sources,
        policy_choice=info.policy_choice,
        rule_level=rule_level,
        answers=fired.answers,
        assumptions=fired.assumptions,
        policy_note=note,
        cleared_by=cleared_by,
        default_level=info.level if rule_level != info.level else None,
    )


def _cover(
    rule_id: str,
    rule_level: Level,
    fired: Firing,
    valid: list[tuple[Clearance, date]],
    unapplied: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """The first valid clearance that lowers this firing to adapt (POLICY §5, §8.4, §8.7), or
    None; every valid clearance naming the rule that cannot lower it goes to ``unapplied``."""
    cleared_by = None
    for c, until in valid:
        if rule_id not in c.rules or rule_level < Level.CLEARANCE_REQUIRED:
            continue
        if rule_level > Level.CLEARANCE_REQUIRED:
            unapplied.append(_unapplied(rule_id, "level_raised_by_clinic", c, until))
            continue
        late = _not_told(fired.events, c.date)
        if late is not None:
            why = "event_after_clearance" if late.on else "event_undated"
            entry = _unapplied(rule_id, why, c, until)
            entry["event"] = late.path
            entry["event_on"] = late.on.isoformat() if late.on else None
            unapplied.append(entry)
        elif cleared_by is None:
            cleared_by = _clearance_json(c, until, with_rules=False)
    return cleared_by


def _not_told(events: tuple[Event, ...], cleared_on: date) -> Event | None:
    """The first triggering event the clinician cannot have been told of: dated after the
    clearance (POLICY §8.4), or undated (``undated_event_not_covered``, docs/policy-readings)."""
    for e in events:
        if e.on is None or e.on > cleared_on:
            return e
    return None


def _unapplied(rule_id: str, why: str, c: Clearance, until: date) -> dict[str, Any]:
    return {"rule": rule_id, "why": why, "clearance": _clearance_json(c, until)}


def _clearance_json(c: Clearance, until: date, *, with_rules: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"rules": sorted(c.rules)} if with_rules else {}
    out.update(clinician=c.clinician, date=c.date.isoformat(), valid_until=until.isoformat())
    return out


def _restrictions_reason(info: RuleInfo, c: Clearance, until: date, s: Settings) -> Reason:
    """POLICY §8.6: a valid clearance's restrictions apply, and the decision says whose."""
    summary, note = rule_texts(info, s.windows)
    restrictions = {
        "pressure_max": dict(c.pressure_max),
        "avoid": sorted(c.avoid),
        "notes": c.notes,
    }
    return Reason(
        rule=info.id,
        level=info.level,
        summary=summary,
        sources=info.sources,
        policy_choice=info.policy_choice,
        rule_level=info.level,
        answers={"restrictions": restrictions},
        policy_note=note,
        clearance=_clearance_json(c, until),
    )


def _restrictions_part(c: Clearance) -> PlanPart:
    part = PlanPart(caps=MappingProxyType(dict(c.pressure_max)), avoid=c.avoid)
    if c.notes:
        part = part.note(f"Clinician ({c.clinician}, {c.date.isoformat()}): {c.notes}")
    return part


def _with_settings(part: PlanPart, settings: Settings, rid: str) -> PlanPart:
    extra = settings.rules.get(rid)
    if extra is None:
        return part
    for region, cap in extra.pressure_max.items():
        part = part.cap((region,), cap)
    return part.avoid_regions(extra.avoid).session_at_most(extra.session_minutes_max)


def clearance_validity(
    clearances: tuple[Clearance, ...], on: date, clinic_days: int | None
) -> tuple[list[tuple[Clearance, date]], list[dict[str, Any]]]:
    """(valid clearances with their last valid day, expired ones as JSON) on ``on``.

    POLICY §8.5: valid from ``date`` through ``valid_until``, both included; without it through
    date + 90 days; a clinic's ``clearance_valid_days`` ends it at the earlier of the two.
    """
    valid, expired = [], []
    for c in clearances:
        until = c.valid_until or c.date + timedelta(days=CLEARANCE_DEFAULT_DAYS)
        if clinic_days is not None:
            until = min(until, c.date + timedelta(days=clinic_days))
        if c.date <= on <= until:
            valid.append((c, until))
        else:
            expired.append(_clearance_json(c, until))
    return valid, expired


def _plan(level: Level, parts: list[PlanPart], rescreen: bool) -> Plan:
    if level >= Level.URGENT_REFERRAL:
        return no_massage_plan(parts)
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
