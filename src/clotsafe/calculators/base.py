"""What every calculator is: items with stable ids, points, bands, and bounds under unknowns.

A *finding* is the value of one item: ``True`` (present), ``False`` (absent) or ``None``
(unknown). Unknown items are never scored as absent: a result carries a lower bound (unknowns
absent) and an upper bound (unknowns present) (POLICY.md §4). Items that share an ``exclusive``
group are one choice (for example Caprini's age bands): the group scores its highest present
item.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

Finding = bool | None


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    label: str
    points: float
    exclusive: str | None = None
    #: versions that have this item (None: every version)
    versions: frozenset[str] | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Band:
    id: str
    label: str
    #: inclusive bounds; None means open
    low: float | None
    high: float | None

    def contains(self, score: float) -> bool:
        return (self.low is None or score >= self.low) and (self.high is None or score <= self.high)


@dataclass(frozen=True, slots=True)
class ItemResult:
    id: str
    points: float
    present: Finding
    #: points this item adds to the lower bound
    awarded: float


@dataclass(frozen=True, slots=True)
class ScoreResult:
    calculator: str
    version: str
    band_scheme: str
    lower: float
    upper: float
    band: str
    band_upper: str
    items: tuple[ItemResult, ...]
    unknown: tuple[str, ...]
    not_assessed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calculator": self.calculator,
            "version": self.version,
            "band_scheme": self.band_scheme,
            "lower": _num(self.lower),
            "upper": _num(self.upper),
            "band": self.band,
            "band_upper": self.band_upper,
            "items": [
                {
                    "id": i.id,
                    "points": _num(i.points),
                    "present": i.present,
                    "awarded": _num(i.awarded),
                }
                for i in self.items
            ],
            "unknown": list(self.unknown),
            "not_assessed": list(self.not_assessed),
            "notes": list(self.notes),
            **self.extra,
        }

    def summary(self) -> dict[str, Any]:
        """The compact form embedded in a decision: only the items that score, by id."""
        return {
            "version": self.version,
            "band_scheme": self.band_scheme,
            "lower": _num(self.lower),
            "upper": _num(self.upper),
            "band": self.band,
            "band_upper": self.band_upper,
            "items": [{"id": i.id, "points": _num(i.awarded)} for i in self.items if i.present],
            "unknown": list(self.unknown),
            "not_assessed": list(self.not_assessed),
        }


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


class Calculator(Protocol):
    """The seam every calculator goes through (shipped ones included)."""

    # Read-only properties (not plain attributes) so that frozen dataclasses satisfy the
    # protocol too; any object with these attributes still does.
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def citation(self) -> str: ...
    @property
    def sources(self) -> tuple[str, ...]: ...
    @property
    def versions(self) -> tuple[str, ...]: ...
    @property
    def band_schemes(self) -> tuple[str, ...]: ...
    #: numeric inputs accepted besides item ids, e.g. {"age": "years"}
    @property
    def measurements(self) -> Mapping[str, str]: ...

    def items(self, version: str | None = None) -> tuple[Item, ...]: ...

    def score(self, findings: Mapping[str, Any], *, version: str | None = None,
              bands: str | None = None) -> ScoreResult: ...  # fmt: skip


class DuplicateCalculatorError(ValueError):
    """A calculator name registered twice in one registry."""


class CalculatorRegistry(Mapping[str, Calculator]):
    """Calculators by name: an explicit object, the one seam the shipped calculators go through
    exactly as a plug-in's would (``builtin_calculators()`` registers the five of FACTS §1–5)."""

    __slots__ = ("_calcs",)

    def __init__(self, calcs: Iterable[Calculator] = ()) -> None:
        self._calcs: dict[str, Calculator] = {}
        for calc in calcs:
            self.register(calc)

    def register(self, calc: Calculator) -> Calculator:
        if calc.name in self._calcs:
            raise DuplicateCalculatorError(f"calculator {calc.name} registered twice")
        self._calcs[calc.name] = calc
        return calc

    def __getitem__(self, name: str) -> Calculator:
        return self._calcs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._calcs)

    def __len__(self) -> int:
        return len(self._calcs)


@cache
def builtin_calculators() -> CalculatorRegistry:
    """Wells DVT, Wells PE, PERC, Caprini 2005 and Padua, registered once (built on first use,
    so importing one calculator module registers nothing)."""
    from clotsafe.calculators.caprini import CAPRINI
    from clotsafe.calculators.padua import PADUA
    from clotsafe.calculators.perc import PERC
    from clotsafe.calculators.wells_dvt import WELLS_DVT
    from clotsafe.calculators.wells_pe import WELLS_PE

    return CalculatorRegistry((WELLS_DVT, WELLS_PE, PERC, CAPRINI, PADUA))


def get(name: str) -> Calculator:
    """A built-in calculator by name (KeyError for an unknown one)."""
    return builtin_calculators()[name]
