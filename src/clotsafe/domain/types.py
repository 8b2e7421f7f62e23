"""The small vocabulary of clotsafe (POLICY.md §1, §7; INTAKE.md)."""

from __future__ import annotations

from enum import Enum
from typing import Literal

Tri = Literal["yes", "no", "unsure"]
RuleId = str


class _Ranked(Enum):
    """An enum whose members are listed least to most cautious; ``rank`` is that position."""

    def __init__(self, value: str) -> None:
        #: position in the order of caution (a plain attribute: enum hashing is slow)
        self.rank: int = len(type(self).__members__)


class Level(_Ranked):
    """Decision levels, least to most cautious (POLICY §1)."""

    STANDARD = "standard"
    ADAPT = "adapt"
    CLEARANCE_REQUIRED = "clearance_required"
    URGENT_REFERRAL = "urgent_referral"
    EMERGENCY = "emergency"

    def __lt__(self, other: Level) -> bool:
        return self.rank < other.rank

    def __le__(self, other: Level) -> bool:
        return self.rank <= other.rank

    def __gt__(self, other: Level) -> bool:
        return self.rank > other.rank

    def __ge__(self, other: Level) -> bool:
        return self.rank >= other.rank


class Position(_Ranked):
    """Client position, least to most restrictive (POLICY §7)."""

    ANY = "any"
    SIDE_LYING_PREFERRED = "side_lying_preferred"
    SIDE_LYING_OR_SEMI_RECLINING = "side_lying_or_semi_reclining"


class Urgency(_Ranked):
    """Referral urgency (POLICY §7), least to most urgent."""

    NONE = "none"
    SUGGESTED = "suggested"
    BEFORE_MASSAGE = "before_massage"
    SAME_DAY = "same_day"
    EMERGENCY = "emergency"


#: referral urgency implied by each level (POLICY §1 table)
LEVEL_URGENCY: dict[Level, Urgency] = {
    Level.STANDARD: Urgency.NONE,
    Level.ADAPT: Urgency.NONE,
    Level.CLEARANCE_REQUIRED: Urgency.BEFORE_MASSAGE,
    Level.URGENT_REFERRAL: Urgency.SAME_DAY,
    Level.EMERGENCY: Urgency.EMERGENCY,
}

#: Walton pressure levels (FACTS §7.2); 0 means "do not work this region" (POLICY §3)
MAX_PRESSURE = 5
