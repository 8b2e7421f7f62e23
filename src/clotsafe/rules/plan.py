"""Plan parts and how they combine (POLICY §3: caps only ever go down)."""

from __future__ import annotations

from collections.abc import Iterable

from clotsafe.domain.decision import Plan
from clotsafe.domain.regions import REGION_SET, REGIONS
from clotsafe.domain.types import MAX_PRESSURE, Position


class PlanPart:
    """What one rule (or one clearance, or one clinic setting) asks of the session.

    A plain slotted class: one is made for every rule that fires in every intake of a batch.
    ``floor`` is a cap on every region ("everywhere ≤ n") kept as one number.
    """

    __slots__ = (
        "avoid",
        "caps",
        "floor",
        "gentle_joint_movement",
        "no_joint_movement",
        "notes",
        "position",
        "referral_suggested",
        "session_minutes_max",
    )

    def __init__(self, caps: dict[str, int] | None = None, avoid: set[str] | None = None) -> None:
        self.caps: dict[str, int] = caps if caps is not None else {}
        self.floor: int = MAX_PRESSURE
        self.avoid: set[str] = avoid if avoid is not None else set()
        self.position: Position = Position.ANY
        self.gentle_joint_movement: set[str] = _EMPTY
        self.no_joint_movement: set[str] = _EMPTY
        self.session_minutes_max: int | None = None
        self.notes: list[str] = []
        self.referral_suggested: bool = False

    def cap(self, regions: Iterable[str], level: int) -> PlanPart:
        if regions is REGION_SET:
            self.floor = min(self.floor, level)
            return self
        caps = self.caps
        for r in regions:
            old = caps.get(r)
            if old is None or level < old:
                caps[r] = level
        return self

    def avoid_regions(self, regions: Iterable[str]) -> PlanPart:
        self.avoid.update(regions)
        return self

    def gentle_joints(self, regions: Iterable[str]) -> PlanPart:
        self.gentle_joint_movement = self.gentle_joint_movement | set(regions)
        return self

    def no_joints(self, regions: Iterable[str]) -> PlanPart:
        self.no_joint_movement = self.no_joint_movement | set(regions)
        return self

    def note(self, text: str) -> PlanPart:
        self.notes.append(text)
        return self


_EMPTY: set[str] = set()  # shared and never mutated: PlanPart replaces it on first use


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
