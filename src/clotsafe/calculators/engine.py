"""The scoring machinery every shipped calculator uses: a points table, bands, bounds.

A :class:`PointsCalculator` is data (items, band schemes, measurement rules) plus one algorithm:

* a *finding* is ``True`` (present), ``False`` (absent) or ``None`` (unknown);
* the **lower bound** is the smallest score the unknown items allow and the **upper bound** the
  largest. For items with positive points that is exactly "unknowns absent" / "unknowns
  present" (POLICY.md §4). The one negative item (Wells DVT's alternative diagnosis, −2) counts
  as present in the lower bound and absent in the upper bound, so ``[lower, upper]`` always
  contains the true score;
* an ``exclusive`` group is one choice: it scores its highest present item in the lower bound
  and its highest present-or-unknown item in the upper bound;
* a measurement (``age``, ``heart_rate`` …) derives its items only when the item itself was not
  given: an item given directly wins, even when it is given as ``None``.

Each version is compiled once into a :class:`Plan` (index arrays and pre-built
:class:`ItemResult` objects), so scoring allocates little: the intake mapper of Caprini runs
for every intake of a batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from clotsafe.calculators.base import Band, Finding, Item, ItemResult, ScoreResult
from clotsafe.calculators.errors import (
    InvalidValue,
    UnknownBandScheme,
    UnknownItem,
    UnknownVersion,
)

EMPTY: Mapping[str, Any] = MappingProxyType({})

#: one row of a single item: (result, points added to the lower bound, to the upper bound)
_Row = tuple[ItemResult, float, float]
#: one member of an exclusive group: (index, points, (won, present-not-won, unknown))
_Member = tuple[int, float, tuple[ItemResult, ItemResult, ItemResult]]
#: (lower, upper, item results in table order, indexes of unknown items)
_Evaluated = tuple[float, float, list[ItemResult], list[int]]


@dataclass(frozen=True, slots=True)
class MeasurementRule:
    """Derives one item from a number (``age`` ≥ 50 → ``age_50_or_over``)."""

    measurement: str
    item: str
    test: Callable[[float], bool]
    #: the rule as written in the docs, e.g. "age ≥ 50 years"
    text: str


@dataclass(frozen=True, slots=True)
class BandScheme:
    """One way of banding the total (bands are inclusive; see :class:`Band`)."""

    id: str
    title: str
    bands: tuple[Band, ...]
    sources: tuple[str, ...]

    #: (low, high, id) with open ends as ±inf, the same meaning as :meth:`Band.contains`
    edges: tuple[tuple[float, float, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        inf = math.inf
        edges = tuple((-inf if b.low is None else b.low, inf if b.high is None else b.high, b.id)
                      for b in self.bands)  # fmt: skip
        object.__setattr__(self, "edges", edges)

    def band_of(self, score: float) -> str:
        for low, high, band_id in self.edges:
            if low <= score <= high:
                return band_id
        raise LookupError(f"band scheme {self.id!r} has no band for the score {score}")


@dataclass(frozen=True, slots=True)
class Plan:
    """One version of a calculator compiled for fast scoring (see :func:`compile_plan`)."""

    calculator: str
    version: str
    items: tuple[Item, ...]
    not_assessed: tuple[str, ...]
    index: Mapping[str, int]
    rules: tuple[MeasurementRule, ...]
    valid_keys: tuple[str, ...]
    singles: tuple[tuple[int, Mapping[Finding, _Row]], ...]
    groups: tuple[tuple[_Member, ...], ...]
    absent: tuple[ItemResult, ...]

    def evaluate(self, values: Sequence[Finding]) -> _Evaluated:
        """Bounds, item results (table order) and unknown item indexes for aligned findings."""
        out = list(self.absent)
        unknown: list[int] = []
        lower = upper = 0.0
        for i, rows in self.singles:
            v = values[i]
            if v is False:  # the common case: ``out`` already holds the absent result
                continue
            out[i], lo, hi = rows[v]
            lower += lo
            upper += hi
            if v is None:
                unknown.append(i)
        for members in self.groups:
            lo, hi = _group(members, values, out, unknown)
            lower += lo
            upper += hi
        return lower, upper, out, unknown

    def unknown_ids(self, unknown: list[int]) -> tuple[str, ...]:
        unknown.sort()
        items = self.items
        return tuple([items[i].id for i in unknown])


def _group(
    members: tuple[_Member, ...],
    values: Sequence[Finding],
    out: list[ItemResult],
    unknown: list[int],
) -> tuple[float, float]:
    """Score one exclusive group; members are sorted by points, highest first."""
    lo: float | None = None
    hi: float | None = None
    for i, points, (won, lost, unk) in members:
        v = values[i]
        if v is None:
            out[i] = unk
            unknown.append(i)
            hi = points if hi is None else hi
        elif v:
            out[i] = lost if lo is not None else won
            lo = points if lo is None else lo
            hi = points if hi is None else hi
    return lo or 0.0, hi or 0.0


def compile_plan(
    calculator: str,
    version: str,
    items: tuple[Item, ...],
    rules: tuple[MeasurementRule, ...],
    measurements: Mapping[str, str],
    exclude: Collection[str] = (),
) -> Plan:
    """Pre-build everything :meth:`Plan.evaluate` needs; ``exclude`` lists not-assessed ids."""
    kept = tuple(it for it in items if it.id not in exclude)
    index = {it.id: i for i, it in enumerate(kept)}
    kept_rules = tuple(r for r in rules if r.item in index)
    names = tuple(m for m in measurements if any(r.measurement == m for r in kept_rules))
    singles = tuple((i, _single_rows(it)) for i, it in enumerate(kept) if it.exclusive is None)
    return Plan(
        calculator=calculator,
        version=version,
        items=kept,
        not_assessed=tuple(it.id for it in items if it.id in exclude),
        index=MappingProxyType(index),
        rules=kept_rules,
        valid_keys=tuple(index) + names,
        singles=singles,
        groups=_groups(kept),
        absent=tuple(ItemResult(it.id, it.points, False, 0.0) for it in kept),
    )


def _single_rows(item: Item) -> Mapping[Finding, _Row]:
    p = item.points
    unknown: _Row
    if p < 0:  # an unknown negative item lowers the lower bound only
        unknown = (ItemResult(item.id, p, None, p), p, 0.0)
    else:
        unknown = (ItemResult(item.id, p, None, 0.0), 0.0, p)
    return MappingProxyType({
        True: (ItemResult(item.id, p, True, p), p, p),
        False: (ItemResult(item.id, p, False, 0.0), 0.0, 0.0),
        None: unknown,
    })  # fmt: skip


def _groups(items: tuple[Item, ...]) -> tuple[tuple[_Member, ...], ...]:
    by_group: dict[str, list[_Member]] = {}
    for i, it in enumerate(items):
        if it.exclusive is None:
            continue
        if it.points < 0:
            raise ValueError(f"exclusive item {it.id!r} must not have negative points")
        results = (ItemResult(it.id, it.points, True, it.points),
                   ItemResult(it.id, it.points, True, 0.0),
                   ItemResult(it.id, it.points, None, 0.0))  # fmt: skip
        by_group.setdefault(it.exclusive, []).append((i, it.points, results))
    return tuple(tuple(sorted(ms, key=lambda m: -m[1])) for ms in by_group.values())


@dataclass(frozen=True, slots=True, eq=False)
class PointsCalculator:
    """A calculator defined by a points table; satisfies :class:`~.base.Calculator`."""

    name: str
    title: str
    citation: str
    sources: tuple[str, ...]
    #: the first is the default version
    versions: tuple[str, ...]
    band_schemes: tuple[str, ...]
    measurements: Mapping[str, str]
    table: tuple[Item, ...]
    schemes: Mapping[str, BandScheme]
    #: band schemes allowed for each version; the first is that version's default
    version_schemes: Mapping[str, tuple[str, ...]]
    rules: tuple[MeasurementRule, ...] = ()
    notes: tuple[str, ...] = ()
    #: turns the generic result into the calculator's own (PERC's rule-out statement)
    interpret: Callable[[ScoreResult], ScoreResult] | None = None
    _plans: Mapping[str, Plan] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        plans = {v: self.plan(v) for v in self.versions}
        object.__setattr__(self, "_plans", MappingProxyType(plans))

    def items(self, version: str | None = None) -> tuple[Item, ...]:
        v = self.check_version(version)
        return tuple(it for it in self.table if it.versions is None or v in it.versions)

    def check_version(self, version: str | None) -> str:
        if version is None:
            return self.versions[0]
        if version not in self.versions:
            raise UnknownVersion(self.name, version, self.versions)
        return version

    def scheme(self, version: str, bands: str | None) -> BandScheme:
        allowed = self.version_schemes[version]
        if bands is None:
            return self.schemes[allowed[0]]
        if bands not in allowed:
            raise UnknownBandScheme(self.name, version, bands, allowed)
        return self.schemes[bands]

    def plan(self, version: str | None = None, exclude: Collection[str] = ()) -> Plan:
        """The compiled plan of a version; ``exclude`` makes items *not assessed*."""
        v = self.check_version(version)
        return compile_plan(self.name, v, self.items(v), self.rules, self.measurements, exclude)

    def score(self, findings: Mapping[str, Any], *, version: str | None = None,
              bands: str | None = None) -> ScoreResult:  # fmt: skip
        """Score item findings (True/False/None) and measurements (numbers) by item id."""
        v = self.check_version(version)
        plan = self._plans[v]
        return self.result(plan, self.scheme(v, bands), self.values(plan, findings))

    def values(self, plan: Plan, findings: Mapping[str, Any]) -> list[Finding]:
        """Findings aligned with ``plan.items``; measurements fill items not given."""
        values: list[Finding] = [None] * len(plan.items)
        index = plan.index
        measured: dict[str, float] = {}
        for key, value in findings.items():
            i = index.get(key)
            if i is not None:
                if value is not None and value is not True and value is not False:
                    raise InvalidValue(self.name, key, "True, False or None (unknown)", value)
                values[i] = value
            elif key in self.measurements and key in plan.valid_keys:
                number = _number(self.name, key, value)
                if number is not None:
                    measured[key] = number
            else:
                raise UnknownItem(self.name, plan.version, key, plan.valid_keys)
        if measured:
            for rule in plan.rules:  # an item given directly (even as None) wins
                if rule.measurement in measured and rule.item not in findings:
                    values[index[rule.item]] = rule.test(measured[rule.measurement])
        return values

    def result(self, plan: Plan, scheme: BandScheme, values: Sequence[Finding],
               notes: tuple[str, ...] | None = None) -> ScoreResult:  # fmt: skip
        """The :class:`ScoreResult` of aligned findings (the fast path of intake mappers)."""
        lower, upper, out, unknown = plan.evaluate(values)
        res = ScoreResult(  # positional: measurably faster than keywords in the batch path
            self.name,
            plan.version,
            scheme.id,
            lower,
            upper,
            scheme.band_of(lower),
            scheme.band_of(upper),
            tuple(out),
            plan.unknown_ids(unknown) if unknown else (),
            plan.not_assessed,
            self.notes if notes is None else notes,
            EMPTY,
        )
        return res if self.interpret is None else self.interpret(res)


def _number(calculator: str, key: str, value: Any) -> float | None:
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:
        raise InvalidValue(calculator, key, "a finite number ≥ 0, or None (unknown)", value)
    return float(value)


def with_extra(result: ScoreResult, **extra: Any) -> ScoreResult:
    """A copy of ``result`` with more keys in ``extra`` (shown by ``to_dict``)."""
    r = result  # positional, not dataclasses.replace (which re-reads the fields every call)
    return ScoreResult(r.calculator, r.version, r.band_scheme, r.lower, r.upper, r.band,
                       r.band_upper, r.items, r.unknown, r.not_assessed, r.notes,
                       MappingProxyType({**r.extra, **extra}))  # fmt: skip


#: FACTS.md scope warning, carried in the notes of every shipped calculator
SCOPE_NOTE = (
    "Derived and validated for clinicians with objective testing available; not validated for "
    "massage therapists or lay people. It can help order risk and urgency, but must never be "
    "used to clear a client who has symptoms (FACTS.md scope warning, §10)."
)
