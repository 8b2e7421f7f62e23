"""The one seam rules go through: built-in rules register here exactly as a plug-in would."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from typing import Any

from clotsafe.calculators.base import ScoreResult
from clotsafe.domain.intake import Answers, Clot
from clotsafe.domain.regions import GROUPS, LIMB_OF, LIMBS, expand
from clotsafe.knowledge import RuleInfo
from clotsafe.rules.plan import PlanPart
from clotsafe.rules.settings import Windows

__all__ = ["Ctx", "Event", "Firing", "NormClot", "RuleDef", "RuleRegistry", "builtin_rules"]


#: the part of a rule that asks nothing of the plan (PlanPart is immutable: safe to share)
NO_PART = PlanPart()


@dataclass(frozen=True, slots=True)
class Event:
    """A dated event that made a rule fire (POLICY §8.4): its answer path and date (None when
    the intake gives no date)."""

    path: str
    on: date | None


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule that fired: the answers it read, how unknowns were read, its plan part, and the
    dated events that triggered it (a clearance dated before them cannot cover them)."""

    answers: Mapping[str, Any]
    part: PlanPart = NO_PART
    assumptions: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class NormClot:
    """A clot record with POLICY §2's unknowns and §8.2/§8.3's readings resolved."""

    index: int
    #: counts as a pulmonary embolism (kind pe, or any kind recorded in the lung: §8.3)
    pe: bool
    #: body regions of the site: the clot region whose plan applies (also for a pe recorded at
    #: a body site, §8.3); empty for lung and other
    regions: frozenset[str]
    diagnosed_on: date | None
    treatment: str  # ongoing, finished, none
    assumptions: tuple[str, ...]
    raw: dict[str, Any]

    @property
    def limbs(self) -> frozenset[str]:
        """Limb groups (left_leg, ...) of the clot's site; empty for lung and non-limb sites."""
        return frozenset(LIMB_OF[r] for r in self.regions if r in LIMB_OF)

    @property
    def event(self) -> Event:
        return Event(f"answers.clots[{self.index}].diagnosed_on", self.diagnosed_on)


class Ctx:
    """What every rule sees: the answers, the screening date and the settings' windows."""

    __slots__ = ("__dict__", "a", "at", "w")

    def __init__(self, answers: Answers, at: date, windows: Windows) -> None:
        self.a = answers
        self.at = at
        self.w = windows

    def days(self, d: date | None) -> int | None:
        return None if d is None else (self.at - d).days

    def detail(self, qid: str) -> bool:
        """A follow-up detail: yes/unsure, or missing (docs/policy-readings.md
        ``missing_detail_as_unsure``)."""
        return qid not in self.a or self.a.yes(qid)

    def used(self, *qids: str) -> dict[str, Any]:
        a = self.a
        return {q: _json(a.get(q)) for q in qids if q in a}

    @cached_property
    def clots(self) -> tuple[NormClot, ...]:
        return tuple(_normalise(i, c) for i, c in enumerate(self.a.clots()))

    @cached_property
    def caprini(self) -> ScoreResult:
        from clotsafe.calculators.caprini_intake import caprini_from_intake

        return caprini_from_intake(self.a, self.at)


def _json(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, tuple):
        return list(v)
    return v


def _normalise(i: int, c: Clot) -> NormClot:
    notes: list[str] = []
    kind = c.kind
    if kind == "unsure":
        kind = "dvt"
        notes.append(f"clots[{i}].kind unsure: counted as dvt")
    site = c.site
    if site is None or site == "unsure":
        # POLICY §2 and §8.2: a missing, null or unsure site counts as legs
        notes.append(f"clots[{i}].site {'unsure' if site else 'not given'}: counted as legs")
        site = "legs"
    if site == "lung" and kind != "pe":
        notes.append(f"clots[{i}]: a {kind} recorded in the lung counted as a pe (POLICY §8.3)")
        kind = "pe"
    regions = frozenset() if site in ("lung", "other") else expand((site,))
    if kind == "pe" and regions:
        notes.append(
            f"clots[{i}]: a pe recorded at {site} counted as a pe and as a clot at {site} "
            "(POLICY §8.3)"
        )
    treatment = c.treatment
    if treatment is None or treatment == "unsure":
        notes.append(
            f"clots[{i}].treatment {'unsure' if treatment else 'missing'}: counted as none"
        )
        treatment = "none"
    raw = {
        k: _json(getattr(c, k))
        for k in ("kind", "site", "diagnosed_on", "treatment")
        if getattr(c, k) is not None
    }
    return NormClot(i, kind == "pe", regions, c.diagnosed_on, treatment, tuple(notes), raw)


RuleFn = Callable[[Ctx], Firing | None]


@dataclass(frozen=True, slots=True)
class RuleDef:
    """One registered rule: its POLICY id, its evaluation function and its trigger answers.

    ``triggers``: question ids of which at least one must be answered with something other
    than "no" for the rule to be able to fire; the engine skips the rule otherwise. A rule that
    cannot say so (a score, say) leaves it None and is always evaluated. tests/rules check it.
    """

    id: str
    fn: RuleFn
    triggers: frozenset[str] | None
    #: the rule's metadata (level, wording, sources, caps); None: knowledge/rules.toml's entry
    info: RuleInfo | None = None


class DuplicateRuleError(ValueError):
    """A rule id registered twice in one registry."""


class RuleRegistry:
    """The one seam rules go through: an explicit object passed to ``evaluate`` (built-in rules
    are registered by ``clotsafe.rules.builtin.register`` exactly as a plug-in's would be)."""

    __slots__ = ("_defs",)

    def __init__(self) -> None:
        self._defs: dict[str, RuleDef] = {}

    def register(
        self,
        rule_id: str,
        fn: RuleFn,
        triggers: Iterable[str] | None = None,
        info: RuleInfo | None = None,
    ) -> RuleRegistry:
        """Add a rule. A plug-in rule passes its ``info``; the shipped ones are in rules.toml."""
        if rule_id in self._defs:
            raise DuplicateRuleError(f"rule {rule_id} registered twice")
        if info is not None and info.id != rule_id:
            raise ValueError(f"rule {rule_id} registered with the metadata of {info.id}")
        self._defs[rule_id] = RuleDef(
            rule_id, fn, None if triggers is None else frozenset(triggers), info
        )
        return self

    def __iter__(self) -> Iterator[RuleDef]:
        return iter(self._defs.values())

    def __len__(self) -> int:
        return len(self._defs)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._defs

    def __getitem__(self, rule_id: str) -> RuleDef:
        return self._defs[rule_id]

    def ids(self) -> tuple[str, ...]:
        return tuple(self._defs)


@cache
def builtin_rules() -> RuleRegistry:
    """The shipped rules of POLICY §3 in a registry of their own (built once)."""
    from clotsafe.rules.builtin import register

    return register(RuleRegistry())


def active_answers(answers: Answers) -> frozenset[str]:
    """Question ids answered with anything but "no" (and not missing)."""
    return frozenset(k for k, v in answers.as_mapping().items() if v is not None and v != "no")


def limb_regions(limbs: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for limb in limbs:
        out.update(LIMBS[limb])
    return out


LEGS = GROUPS["legs"]
ARMS = GROUPS["arms"]
