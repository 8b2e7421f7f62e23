"""Plan parts and how they combine (POLICY §3: caps only ever go down)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from clotsafe.domain.decision import Plan
from clotsafe.domain.regions import REGION_SET, REGIONS
from clotsafe.domain.types import MAX_PRESSURE, Position

_NO_CAPS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PlanPart:
    """What one rule (or one clearance, or one clinic setting) asks of the session.

    Immutable: every method returns a new part, so no two parts can share state (an earlier
    version shared one mutable empty set between all parts). ``floor`` is a cap on every region
    ("everywhere ≤ n") kept as one number.
    """

    caps: Mapping[str, int] = field(default_factory=lambda: _NO_CAPS)
    floor: int = MAX_PRESSURE
    avoid: frozenset[str] = frozenset()
    position: Position = Position.ANY
    gentle_joint_movement: frozenset[str] = frozenset()
    no_joint_movement: frozenset[str] = frozenset()
    session_minutes_max: int | None = None
    notes: tuple[str, ...] = ()
    referral_suggested: bool = False

    def cap(self, regions: Iterable[str], level: int) -> PlanPart:
        """Cap the regions at ``level`` (REGION_SET: everywhere); a lower cap already set stays."""
        if regions is REGION_SET:
            return self._with(floor=min(self.floor, level))
        caps = dict(self.caps)
        for r in regions:
            old = caps.get(r)
            if old is None or level < old:
                caps[r] = level
        return self._with(caps=MappingProxyType(caps))

    def avoid_regions(self, regions: Iterable[str]) -> PlanPart:
        return self._with(avoid=self.avoid | frozenset(regions))

    def gentle_joints(self, regions: Iterable[str]) -> PlanPart:
        return self._with(gentle_joint_movement=self.gentle_joint_movement | frozenset(regions))

    def no_joints(self, regions: Iterable[str]) -> PlanPart:
        return self._with(no_joint_movement=self.no_joint_movement | frozenset(regions))

    def note(self, text: str) -> PlanPart:
        return self._with(notes=(*self.notes, text))

    def at_most(self, position: Position) -> PlanPart:
        """The more restrictive of the part's position and ``position``."""
        return self._with(position=max(self.position, position, key=lambda p: p.rank))

    def session_at_most(self, minutes: int | None) -> PlanPart:
        m = self.session_minutes_max
        if minutes is None or (m is not None and m <= minutes):
            return self
        return self._with(session_minutes_max=minutes)

    def suggest_referral(self) -> PlanPart:
        return self._with(referral_suggested=True)

    def _with(self, **changes: Any) -> PlanPart:
        # positional construction: dataclasses.replace was a third of the engine's time
        g = changes.get
        return PlanPart(
            g("caps", self.caps),
            g("floor", self.floor),
            g("avoid", self.avoid),
            g("position", self.position),
            g("gentle_joint_movement", self.gentle_joint_movement),
            g("no_joint_movement", self.no_joint_movement),
            g("session_minutes_max", self.session_minutes_max),
            g("notes", self.notes),
            g("referral_suggested", self.referral_suggested),
        )


def combine(parts: Iterable[PlanPart], *, rescreen: bool) -> Plan:
    """Lowest cap per region, union of avoid, most restrictive position, union of joint limits,
    shortest session (POLICY §3). An avoided region always has cap 0."""
    parts = list(parts)
    floor = min((p.floor for p in parts), default=MAX_PRESSURE)
    caps = dict.fromkeys(REGIONS, floor)
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
        m = p.session_minutes_max
        if m is not None and (minutes is None or m < minutes):
            minutes = m
        notes.extend(n for n in p.notes if n not in notes)
    for r in avoid:
        caps[r] = 0
    if floor == 0:
        avoid = set(REGIONS)
    elif 0 in caps.values():
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
