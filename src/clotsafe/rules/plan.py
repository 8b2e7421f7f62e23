"""Plan parts and how they combine (POLICY §3: caps only ever go down)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from clotsafe.domain.decision import Plan
from clotsafe.domain.regions import REGION_SET, REGIONS
from clotsafe.domain.types import MAX_PRESSURE, Position

ALL = REGION_SET


@dataclass(slots=True)
class PlanPart:
    """What one rule (or one clearance, or one clinic setting) asks of the session."""

    caps: dict[str, int] = field(default_factory=dict)
    avoid: set[str] = field(default_factory=set)
    position: Position = Position.ANY
    gentle_joint_movement: set[str] = field(default_factory=set)
    no_joint_movement: set[str] = field(default_factory=set)
    session_minutes_max: int | None = None
    notes: list[str] = field(default_factory=list)
    referral_suggested: bool = False

    def cap(self, regions: Iterable[str], level: int) -> PlanPart:
        caps = self.caps
        for r in regions:
            old = caps.get(r)
            if old is None or level < old:
                caps[r] = level
        return self

    def avoid_regions(self, regions: Iterable[str]) -> PlanPart:
        self.avoid.update(regions)
        return self

    def note(self, text: str) -> PlanPart:
        self.notes.append(text)
        return self


def combine(parts: Iterable[PlanPart], *, rescreen: bool) -> Plan:
    """Lowest cap per region, union of avoid, most restrictive position, union of joint limits,
    shortest session (POLICY §3). An avoided region always has cap 0."""
    caps = dict.fromkeys(REGIONS, MAX_PRESSURE)
    avoid: set[str] = set()
    position = Position.ANY
    gentle: set[str] = set()
    no_joint: set[str] = set()
    minutes: int | None = None
    notes: list[str] = []
    for p in parts:
        for r, c in p.caps.items():
            if c < caps[r]:
                caps[r] = c
        avoid |= p.avoid
        if p.position.rank > position.rank:
            position = p.position
        gentle |= p.gentle_joint_movement
        no_joint |= p.no_joint_movement
        if p.session_minutes_max is not None and (
            minutes is None or p.session_minutes_max < minutes
        ):
            minutes = p.session_minutes_max
        notes.extend(n for n in p.notes if n not in notes)
    for r in avoid:
        caps[r] = 0
    avoid |= {r for r, c in caps.items() if c == 0}
    return Plan(
        caps,
        frozenset(avoid),
        position,
        frozenset(gentle - no_joint),
        frozenset(no_joint),
        minutes,
        rescreen,
        tuple(notes),
    )


def no_massage_plan(parts: Iterable[PlanPart]) -> Plan:
    """Emergency and urgent referral: nothing is worked (docs/policy-readings.md
    ``no_massage_plan``); the rest of the combined plan (position, notes) is kept so that a more
    cautious decision never shows a looser plan."""
    plan = combine(parts, rescreen=True)
    return Plan(
        dict.fromkeys(REGIONS, 0),
        frozenset(REGIONS),
        plan.position,
        plan.gentle_joint_movement,
        plan.no_joint_movement,
        plan.session_minutes_max,
        True,
        plan.notes,
    )


def caps_part(caps: Mapping[str, int], avoid: Iterable[str] = (), note: str = "") -> PlanPart:
    part = PlanPart(caps=dict(caps), avoid=set(avoid))
    if note:
        part.note(note)
    return part
