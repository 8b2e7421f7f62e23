"""Properties of every calculator, checked against a brute-force reference."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clotsafe.calculators import Finding, Item, get
from clotsafe.calculators.engine import PointsCalculator

CASES = [
    ("wells_dvt", "2003"),
    ("wells_dvt", "1997"),
    ("wells_pe", "2000"),
    ("perc", "2004"),
    ("caprini", "2005"),
    ("padua", "2010"),
]


def exact(items: Sequence[Item], known: Mapping[str, bool]) -> float:
    """Reference score of fully known findings: sum, one-choice groups take their maximum."""
    total = 0.0
    groups: dict[str, float] = {}
    for it in items:
        if known[it.id]:
            if it.exclusive:
                groups[it.exclusive] = max(groups.get(it.exclusive, 0.0), it.points)
            else:
                total += it.points
    return total + sum(groups.values())


def findings_for(items: Sequence[Item]) -> st.SearchStrategy[dict[str, Finding]]:
    """Findings with at most 8 unknowns, so every completion can be enumerated."""
    values = st.lists(
        st.sampled_from([True, False, None]), min_size=len(items), max_size=len(items)
    )

    def cap(vs: list[Finding]) -> dict[str, Finding]:
        seen = 0
        out: dict[str, Finding] = {}
        for it, v in zip(items, vs, strict=True):
            if v is None:
                seen += 1
                v = None if seen <= 8 else False
            out[it.id] = v
        return out

    return values.map(cap)


@pytest.mark.parametrize(("name", "version"), CASES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_bounds_are_the_min_and_max_over_every_completion(
    name: str, version: str, data: st.DataObject
) -> None:
    """Protects the meaning of the bounds (POLICY §4): whatever the unknown items turn out
    to be, the true score lies in [lower, upper], and both ends are reached by some answer."""
    items = get(name).items(version)
    findings = data.draw(findings_for(items))
    res = get(name).score(findings, version=version)
    unknown = [k for k, v in findings.items() if v is None]
    assert set(res.unknown) == set(unknown)
    scores = []
    for combo in itertools.product((False, True), repeat=len(unknown)):
        known = {k: bool(v) for k, v in findings.items()} | dict(zip(unknown, combo, strict=True))
        scores.append(exact(items, known))
    assert (res.lower, res.upper) == (min(scores), max(scores))


def reachable(calc: PointsCalculator, version: str) -> set[float]:
    items = calc.items(version)
    if len(items) <= 12:
        return {
            exact(items, dict(zip([i.id for i in items], c, strict=True)))
            for c in itertools.product((False, True), repeat=len(items))
        }
    top = sum(i.points for i in items)  # Caprini: every whole number from 0 up
    return {float(n) for n in range(int(top) + 1)}


@pytest.mark.parametrize(("name", "version"), CASES)
def test_every_reachable_score_has_exactly_one_band(name: str, version: str) -> None:
    """Protects band tables: no possible score (e.g. Wells PE 1.5 or 4.5) falls between two
    bands or into two of them, in every band scheme of every version."""
    calc = get(name)
    assert isinstance(calc, PointsCalculator)
    for scheme_id in calc.version_schemes[version]:
        bands = calc.schemes[scheme_id].bands
        for s in reachable(calc, version):
            assert sum(b.contains(s) for b in bands) == 1, (scheme_id, s)
