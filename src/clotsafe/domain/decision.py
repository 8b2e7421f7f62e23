"""The Decision: one object, rendered many ways (POLICY.md §7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from clotsafe.domain.errors import ClotsafeInputError, FieldError
from clotsafe.domain.regions import REGIONS, sort_regions
from clotsafe.domain.types import Level, Position, Urgency


class _Reader:
    """Reads one stored JSON object; every error names the field, what was expected and what
    arrived (the decision was written by ``to_json``, so an error means a damaged store)."""

    def __init__(self, obj: Any, path: str) -> None:
        if not isinstance(obj, Mapping):
            raise _error(path, "wrong_type", "expected a JSON object", obj)
        self.obj, self.path = obj, path

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.obj:
            if default is ...:
                raise _error(
                    self._at(key), "missing_field", "expected this field, found none", None
                )
            return default
        value = self.obj[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            raise _error(self._at(key), "wrong_type", f"expected {_kind_name(kind)}", value)
        return value

    def enum(self, key: str, enum: type[Any], default: Any = ...) -> Any:
        raw = self.get(key, str, default)
        try:
            return enum(raw) if isinstance(raw, str) else raw
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise _error(
                self._at(key), "not_allowed_value", f"expected one of {allowed}", raw
            ) from None

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        if not all(isinstance(v, str) for v in values):
            raise _error(self._at(key), "wrong_type", "expected a list of strings", values)
        return tuple(values)

    def objects(self, key: str) -> tuple[Mapping[str, Any], ...]:
        return tuple(dict(_Reader(v, f"{self._at(key)}[{i}]").obj)
                     for i, v in enumerate(self.get(key, list, [])))  # fmt: skip

    def copy(self, key: str) -> dict[str, Any] | None:
        """An object field, copied (a Decision shares nothing with the JSON it was read from)."""
        value = self.get(key, dict, None)
        return None if value is None else dict(value)


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", bool: "true or false", int: "a whole number", list: "a list",
             dict: "an object", type(None): "null", Mapping: "an object"}  # fmt: skip
    return " or ".join(names.get(k, k.__name__) for k in _kinds(kind))


def _error(path: str, code: str, message: str, got: Any) -> ClotsafeInputError:
    return ClotsafeInputError([FieldError(path, code, f"stored decision: {message}", got)])


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

    @classmethod
    def from_json(cls, obj: Any, path: str = "reason") -> Reason:
        """A reason as ``to_json`` wrote it (policy_version "1" or "1.1")."""
        r = _Reader(obj, path)
        level = r.enum("level", Level)
        default_level = r.enum("default_level", Level, None)
        return cls(
            rule=r.get("rule", str), level=level, summary=r.get("summary", str, ""),
            sources=r.strings("sources"), policy_choice=r.get("policy_choice", bool, False),
            rule_level=r.enum("rule_level", Level, level), answers=r.copy("answers") or {},
            assumptions=r.strings("assumptions"), policy_note=r.get("policy_note", str, ""),
            cleared_by=r.copy("cleared_by"), default_level=default_level,
            clearance=r.copy("clearance"),
        )  # fmt: skip


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

    @classmethod
    def from_json(cls, obj: Any, path: str = "plan") -> Plan:
        """A plan as ``to_json`` wrote it; a region missing from ``pressure_max`` reads as 5."""
        r = _Reader(obj, path)
        caps = r.get("pressure_max", dict, {})
        bad = {k: v for k, v in caps.items() if k not in REGIONS or type(v) is not int}
        if bad:
            raise _error(f"{path}.pressure_max", "wrong_type",
                         "expected region ids with whole-number caps", bad)  # fmt: skip
        return cls(
            pressure_max={reg: caps.get(reg, 5) for reg in REGIONS},
            avoid=frozenset(r.strings("avoid")),
            position=r.enum("position", Position, Position.ANY),
            gentle_joint_movement=frozenset(r.strings("gentle_joint_movement")),
            no_joint_movement=frozenset(r.strings("no_joint_movement")),
            session_minutes_max=r.get("session_minutes_max", (int, type(None)), None),
            rescreen_each_visit=r.get("rescreen_each_visit", bool, False),
            notes=r.strings("notes"),
        )


class Score(Protocol):
    """A computed score as a decision holds it (see clotsafe.calculators.base.ScoreResult)."""

    def summary(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class StoredScore:
    """A score read back from a stored decision: its summary, as the calculator wrote it."""

    data: Mapping[str, Any]

    def summary(self) -> dict[str, Any]:
        return dict(self.data)


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

    @classmethod
    def from_json(cls, obj: Any, *, screened_on: date | None = None) -> Decision:
        """The Decision that ``to_json`` wrote, under policy_version "1" or "1.1"; fields a
        version-1 decision lacks (``unapplied_clearances``, a reason's ``clearance``) read as
        absent. ``screened_on`` is used when the JSON has none. Raises ClotsafeInputError
        naming the field when the JSON is not a stored decision."""
        r = _Reader(obj, "")
        return cls(
            policy_version=r.get("policy_version", str),
            screened_on=_screened_on(r, screened_on),
            level=r.enum("level", Level),
            complete=r.get("complete", bool),
            pending_questions=r.strings("pending_questions"),
            reasons=tuple(
                Reason.from_json(x, f"reasons[{i}]")
                for i, x in enumerate(r.get("reasons", list, []))
            ),
            plan=Plan.from_json(r.get("plan", dict)),
            referral=_Reader(r.get("referral", dict), "referral").enum("urgency", Urgency),
            scores={
                k: StoredScore(dict(_Reader(v, f"scores.{k}").obj))
                for k, v in r.get("scores", dict, {}).items()
            },
            expired_clearances=r.objects("expired_clearances"),
            settings_name=r.get("settings", str, "default"),
            unapplied_clearances=r.objects("unapplied_clearances"),
        )


def _screened_on(r: _Reader, fallback: date | None) -> date:
    raw = r.get("screened_on", str, None)
    if raw is None:
        if fallback is None:
            raise _error("screened_on", "missing_field", "expected this field, found none", None)
        return fallback
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _error("screened_on", "bad_date", "expected a date written YYYY-MM-DD", raw) from None
