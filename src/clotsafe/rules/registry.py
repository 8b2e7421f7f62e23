"""The one seam rules go through: built-in rules register here exactly as a plug-in would."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from clotsafe.calculators.base import ScoreResult
from clotsafe.domain.intake import Answers, Clot
from clotsafe.domain.regions import GROUPS, LIMB_OF, LIMBS, expand
from clotsafe.rules.plan import PlanPart
from clotsafe.rules.settings import Windows


@dataclass(slots=True)
class Firing:
    """A rule that fired: the answers it read, how unknowns were read, and its plan part."""

    answers: dict[str, Any]
    part: PlanPart = field(default_factory=PlanPart)
    assumptions: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NormClot:
    """A clot record with POLICY §2's unknowns resolved."""

    index: int
    kind: str  # dvt, pe, svt, other
    regions: frozenset[str]  # body regions of the site (empty for lung/other)
    diagnosed_on: date | None
    treatment: str  # ongoing, finished, none
    assumptions: tuple[str, ...]
    raw: dict[str, Any]

    @property
    def limbs(self) -> frozenset[str]:
        """Limb groups (left_leg, ...) of a clot in a limb; empty for pe and non-limb sites."""
        if self.kind == "pe":
            return frozenset()
        return frozenset(LIMB_OF[r] for r in self.regions if r in LIMB_OF)


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
        notes.append(f"clots[{i}].site {'unsure' if site else 'missing'}: counted as legs")
        site = "legs"
    regions = frozenset() if site in ("lung", "other") else expand((site,))
    treatment = c.treatment
    if treatment is None or treatment == "unsure":
        notes.append(
            f"clots[{i}].treatment {'unsure' if treatment else 'missing'}: counted as none"
        )
        treatment = "none"
    if c.diagnosed_on is None:
        notes.append(f"clots[{i}].diagnosed_on missing: counted as within the active window")
    raw = {
        k: _json(getattr(c, k))
        for k in ("kind", "site", "diagnosed_on", "treatment")
        if getattr(c, k) is not None
    }
    return NormClot(i, kind, regions, c.diagnosed_on, treatment, tuple(notes), raw)


RuleFn = Callable[[Ctx], Firing | None]
RULES: dict[str, RuleFn] = {}
#: rule id -> the answers without which it cannot fire (None: always evaluated)
TRIGGERS: dict[str, frozenset[str] | None] = {}


def rule(rule_id: str, triggers: tuple[str, ...] | None = None) -> Callable[[RuleFn], RuleFn]:
    """Register a rule's evaluation function under its POLICY id.

    ``triggers``: question ids of which at least one must be answered with something other than
    "no" for the rule to be able to fire; the engine skips the rule otherwise. A rule that cannot
    say so (a score, say) leaves it None and is always evaluated. tests/rules check the claim.
    """

    def deco(fn: RuleFn) -> RuleFn:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = fn
        TRIGGERS[rule_id] = None if triggers is None else frozenset(triggers)
        return fn

    return deco


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
