"""The one-pass Caprini from the intake (bit masks, memoised) scores exactly as the plain
reading of the mapping (``findings``) scored through the calculator's plan."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings

from clotsafe.calculators import caprini_intake as ci
from clotsafe.calculators.caprini import CAPRINI
from clotsafe.domain.intake import parse_intake
from tests.strategies import intakes


def _reference(obj: dict[str, Any], bands: str | None) -> Any:
    intake = parse_intake(obj)
    scheme = CAPRINI.scheme("2005", bands)
    values = ci.findings(intake.answers, intake.screened_on)
    return CAPRINI.result(ci._PLAN, scheme, values, ci.NOTES)


@pytest.mark.parametrize("bands", [None, "accp"])
@settings(max_examples=300, deadline=None)
@given(obj=intakes(with_clearances=False))
def test_one_pass_equals_the_plain_mapping(obj: dict[str, Any], bands: str | None) -> None:
    """Every item, bound, band and unknown list is the same, from a cold memo and a warm one:
    the masks are a faithful key (POLICY §4: unknown items count in the upper bound only)."""
    intake = parse_intake(obj)
    want = _reference(obj, bands)
    ci._CACHE.clear()
    cold = ci.caprini_from_intake(intake.answers, intake.screened_on, bands=bands)
    warm = ci.caprini_from_intake(intake.answers, intake.screened_on, bands=bands)
    assert cold == want and warm is cold


def test_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo starts again when full, so a long batch never grows memory."""
    monkeypatch.setattr(ci, "CACHE_SIZE", 3)
    ci._CACHE.clear()
    for age in range(20, 90, 5):
        obj = {"screened_on": "2026-11-25", "answers": {"age": age, "bmi": 20 + age % 10}}
        intake = parse_intake(obj)
        ci.caprini_from_intake(intake.answers, date(2026, 11, 25))
        assert len(ci._CACHE) <= 3
