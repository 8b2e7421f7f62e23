"""The Decision: one object, rendered many ways (POLICY.md §7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from clotsafe.domain.regions import REGIONS, sort_regions
from clotsafe.domain.types import Level, Position, Urgency


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that fired, with what it read (its trace) and where its numbers come from."""

    rule: str
    level: Level
    summary: str
    sources: tuple[str, ...]
    policy_choice: bool
    #: the level the rule itself gives before any clearance (after clinic settings)
    rule_level: Level
    #: the answers this rule read: question id (or clots[i]) -> value as given
    answers: Mapping[str, Any] = field(default_factory=dict)
    #: how unknowns were read for this rule (POLICY §2), in words
    assumptions: tuple[str, ...] = ()
    policy_note: str = ""
    #: the clearance that turned this rule into adapt, if any
    cleared_by: Mapping[str, Any] | None = None
    #: the level POLICY.md gives, when a clinic setting raised it
    default_level: Level | None = None
    #: CLEARANCE-RESTRICTIONS only: the clearance whose restrictions apply (POLICY §8.6):
    #: {"rules": [...], "clinician": ..., "date": ..., "valid_until": ...}
    clearance: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rule": self.rule,
            "level": self.level.value,
            "summary": self.summary,
            "sources": list(self.sources),
            "policy_choice": self.policy_choice,
            "rule_level": self.rule_level.value,
            "answers": dict(self.answers),
            "assumptions": list(self.assumptions),
        }
        if self.policy_note:
            d["policy_note"] = self.policy_note
        if self.cleared_by is not None:
            d["cleared_by"] = dict(self.cleared_by)
        if self.default_level is not None:
            d["default_level"] = self.default_level.value
        if self.clearance is not None:
            d["clearance"] = dict(self.clearance)
        return d


_REGION_LIST = list(REGIONS)


@dataclass(frozen=True, slots=True)
class Plan:
    """The session plan (Walton pressure caps by region, avoid, position, joints, length)."""

    pressure_max: Mapping[str, int]
    avoid: frozenset[str] = frozenset()
    position: Position = Position.ANY
    gentle_joint_movement: frozenset[str] = frozenset()
    no_joint_movement: frozenset[str] = frozenset()
    session_minutes_max: int | None = None
    rescreen_each_visit: bool = False
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "pressure_max": {r: self.pressure_max[r] for r in REGIONS}
            if list(self.pressure_max) != _REGION_LIST
            else dict(self.pressure_max),
            "avoid": sort_regions(self.avoid),
            "position": self.position.value,
            "gentle_joint_movement": sort_regions(self.gentle_joint_movement),
            "no_joint_movement": sort_regions(self.no_joint_movement),
            "session_minutes_max": self.session_minutes_max,
            "rescreen_each_visit": self.rescreen_each_visit,
            "notes": list(self.notes),
        }


class Score(Protocol):
    """A computed score as a decision holds it (see clotsafe.calculators.base.ScoreResult)."""

    def summary(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Decision:
    policy_version: str
    screened_on: date
    level: Level
    complete: bool
    pending_questions: tuple[str, ...]
    reasons: tuple[Reason, ...]
    plan: Plan
    referral: Urgency
    scores: Mapping[str, Score]
    #: clearances on record that no longer apply (expired), for the renderers to mention
    expired_clearances: tuple[Mapping[str, Any], ...] = ()
    settings_name: str = "default"
    #: valid clearances that did not lower a rule that fired, and why (POLICY §8.4, §8.7):
    #: {"rule", "why": "event_after_clearance" | "level_raised_by_clinic", "clearance": {...},
    #:  and for event_after_clearance "event" (answer path) and "event_on" (date)}
    unapplied_clearances: tuple[Mapping[str, Any], ...] = ()

    @property
    def fired(self) -> tuple[str, ...]:
        return tuple(r.rule for r in self.reasons)

    def to_json(self) -> dict[str, Any]:
        """The public decision JSON of POLICY.md §7 (fields may be added, never renamed)."""
        d: dict[str, Any] = {
            "policy_version": self.policy_version,
            "level": self.level.value,
            "complete": self.complete,
            "pending_questions": list(self.pending_questions),
            "reasons": [r.to_json() for r in self.reasons],
            "plan": self.plan.to_json(),
            "referral": {"urgency": self.referral.value},
            "scores": {k: v.summary() for k, v in self.scores.items()},
            "screened_on": self.screened_on.isoformat(),
            "settings": self.settings_name,
        }
        if self.expired_clearances:
            d["expired_clearances"] = [dict(c) for c in self.expired_clearances]
        if self.unapplied_clearances:
            d["unapplied_clearances"] = [dict(c) for c in self.unapplied_clearances]
        return d
