"""PERC (FACTS §3) and Padua (FACTS §5.1): thresholds and the rule-out statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clotsafe.calculators import ScoreResult, get

Score = Callable[..., ScoreResult]

HISTORY_ABSENT = {
    "unilateral_leg_swelling": False,
    "haemoptysis": False,
    "recent_surgery_or_trauma": False,
    "prior_dvt_or_pe": False,
    "hormone_use": False,
}
NORMAL = HISTORY_ABSENT | {"age": 30, "heart_rate": 70, "oxygen_saturation": 98}


@pytest.mark.parametrize(
    ("key", "value", "met"),
    [
        ("age", 49, 0),
        ("age", 50, 1),
        ("heart_rate", 99, 0),
        ("heart_rate", 100, 1),
        ("oxygen_saturation", 95, 0),
        ("oxygen_saturation", 94, 1),
    ],
)
def test_perc_measurement_thresholds(key: str, value: float, met: int, score: Score) -> None:
    """Protects FACTS §3 cut-offs: age ≥50, heart rate ≥100 and SaO₂ <95 are positive;
    49, 99 and 95 are not."""
    res = score("perc", NORMAL | {key: value})
    assert res.lower == met
    assert res.band == ("positive" if met else "negative")


def test_perc_negative_only_when_all_eight_are_known_absent(score: Score) -> None:
    """Protects the rule-out statement: "PERC negative" needs every criterion known."""
    res = score("perc", NORMAL)
    assert (res.lower, res.upper, res.band, res.unknown) == (0, 0, "negative", ())
    assert res.extra["result"] == "PERC negative"


@pytest.mark.parametrize("missing", ["age", "heart_rate", "oxygen_saturation", "hormone_use"])
def test_perc_with_an_unknown_criterion_cannot_be_applied(missing: str, score: Score) -> None:
    """Protects against a false rule-out: one unknown criterion (a vital sign a spa cannot
    measure, or an unanswered history item) means PERC cannot be applied, never negative."""
    f = {k: v for k, v in NORMAL.items() if k != missing}
    res = score("perc", f)
    assert res.band == "cannot_be_applied"
    assert res.extra["result"] == "cannot be applied (unknown items)"
    assert res.band_upper == "positive"
    assert "Result: cannot be applied (unknown items)." in res.notes


def test_perc_any_known_criterion_is_positive_even_with_unknowns(score: Score) -> None:
    """Protects PERC positive: one criterion present is enough, whatever is unknown."""
    res = score("perc", {"haemoptysis": True})
    assert (res.band, res.extra["result"], res.extra["criteria_met"]) == (
        "positive",
        "PERC positive",
        1,
    )


@pytest.mark.parametrize("findings", [{}, NORMAL, {"haemoptysis": True}])
def test_perc_always_says_it_needs_low_gestalt_and_never_clears(
    findings: dict[str, Any], score: Score
) -> None:
    """Protects FACTS §3 / POLICY §4: every PERC result says it applies only when a clinician
    judges pre-test probability low (<15%) and must never clear a client with symptoms."""
    notes = " ".join(score("perc", findings).notes)
    assert "<15%" in notes and "clinician" in notes
    assert "never be used to clear a client who has symptoms" in notes


def test_perc_counts_criteria_met(score: Score) -> None:
    """Protects the score as the number of criteria met (0–8), as MDCalc reports it."""
    res = score(
        "perc",
        {"age": 61, "heart_rate": 88, "oxygen_saturation": 88}
        | HISTORY_ABSENT
        | {"recent_surgery_or_trauma": True, "prior_dvt_or_pe": True},
    )
    assert res.lower == res.upper == 4
    assert len(get("perc").items()) == 8


PADUA_ABSENT = {i.id: False for i in get("padua").items()}


@pytest.mark.parametrize(
    ("findings", "total", "band"),
    [
        ({"active_cancer": True}, 3, "low"),
        ({"active_cancer": True, "hormonal_treatment": True}, 4, "high"),
    ],
)
def test_padua_high_risk_from_4(
    findings: dict[str, bool], total: int, band: str, score: Score
) -> None:
    """Protects FACTS §5.1: 3 is low risk, 4 is high risk."""
    res = score("padua", PADUA_ABSENT | findings)
    assert (res.lower, res.band) == (total, band)


@pytest.mark.parametrize(("age", "point"), [(69, 0), (70, 1)])
def test_padua_age_item_is_70_or_over(age: int, point: int, score: Score) -> None:
    """Protects the original ≥70 age item (not the ">70" misprint, FACTS §5.1)."""
    f = {k: v for k, v in PADUA_ABSENT.items() if k != "age_70_or_over"}
    assert score("padua", f | {"age": age}).lower == point


@pytest.mark.parametrize(("bmi", "point"), [(29.9, 0), (30, 1)])
def test_padua_obesity_is_bmi_30_or_over(bmi: float, point: int, score: Score) -> None:
    """Protects the Padua obesity item: BMI ≥30 (FACTS §5.1)."""
    f = {k: v for k, v in PADUA_ABSENT.items() if k != "obesity_bmi_30_or_over"}
    assert score("padua", f | {"bmi": bmi}).lower == point


def test_padua_points_match_facts() -> None:
    """Protects the Padua point table (FACTS §5.1): four 3s, one 2, six 1s."""
    pts = sorted(i.points for i in get("padua").items())
    assert pts == [1] * 6 + [2] + [3] * 4
