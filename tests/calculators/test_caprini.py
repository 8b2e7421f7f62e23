"""Caprini 2005 (FACTS §4): points, MDCalc one-choice rules and both band schemes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clotsafe.calculators import ScoreResult, get

from .helpers import item

Score = Callable[..., ScoreResult]
ABSENT: dict[str, Any] = {i.id: False for i in get("caprini").items()}

#: findings that score exactly n points (1-point items only, none in a group)
ONES = (
    "varicose_veins",
    "swollen_legs",
    "acute_mi",
    "copd",
    "sepsis_past_month",
    "inflammatory_bowel_disease",
    "chf_past_month",
    "lung_disease_past_month",
    "major_surgery_past_month",
    "other_risk_factors",
)


def points(n: int) -> dict[str, Any]:
    return ABSENT | {k: True for k in ONES[:n]}


@pytest.mark.parametrize(
    ("n", "band"),
    [
        (0, "low"),
        (1, "low"),
        (2, "moderate"),
        (3, "high"),
        (4, "high"),
        (5, "highest"),
        (9, "highest"),
    ],
)
def test_caprini_2005_band_edges(n: int, band: str, score: Score) -> None:
    """Protects the Caprini 2005 bands used by POLICY (0–1 low, 2 moderate, 3–4 high,
    ≥5 highest): CAPRINI-HIGH starts at 3 and CAPRINI-HIGHEST at 5."""
    res = score("caprini", points(n))
    assert (res.lower, res.band, res.band_scheme) == (n, band, "2005")


@pytest.mark.parametrize(
    ("n", "band"),
    [
        (0, "very_low"),
        (1, "low"),
        (2, "low"),
        (3, "moderate"),
        (4, "moderate"),
        (5, "high_5_6"),
        (6, "high_5_6"),
        (7, "high_7_8"),
        (8, "high_7_8"),
        (9, "highest"),
        (10, "highest"),
    ],
)
def test_caprini_accp_band_edges(n: int, band: str, score: Score) -> None:
    """Protects the ACCP/MDCalc bands (FACTS §4.3), with distinct ids for the two high bands."""
    res = score("caprini", points(n), bands="accp")
    assert (res.lower, res.band, res.band_scheme) == (n, band, "accp")


@pytest.mark.parametrize(
    ("age", "pts"),
    [(40, 0), (41, 1), (60, 1), (61, 2), (74, 2), (75, 3), (40.5, 1), (60.5, 2), (74.5, 3)],
)
def test_caprini_age_is_one_choice(age: float, pts: int, score: Score) -> None:
    """Protects the age bands 41–60 (1), 61–74 (2), ≥75 (3); a non-whole age between two
    printed ranges takes the higher band (the cautious reading)."""
    f = {k: v for k, v in ABSENT.items() if not k.startswith("age_")}
    res = score("caprini", f | {"age": age})
    assert res.lower == res.upper == pts


@pytest.mark.parametrize(("bmi", "pts"), [(25, 0), (25.1, 1)])
def test_caprini_obesity_is_bmi_over_25(bmi: float, pts: int, score: Score) -> None:
    """Protects the 2005 obesity item: BMI >25, so exactly 25 does not score (FACTS §4.2)."""
    f = {k: v for k, v in ABSENT.items() if k != "obesity_bmi_over_25"}
    assert score("caprini", f | {"bmi": bmi}).lower == pts


@pytest.mark.parametrize(
    ("choice", "pts"),
    [
        ("minor_surgery", 1),
        ("arthroscopic_surgery", 2),
        ("major_open_surgery", 2),
        ("laparoscopic_surgery", 2),
        ("elective_lower_extremity_arthroplasty", 5),
    ],
)
def test_caprini_surgery_type_is_one_choice(choice: str, pts: int, score: Score) -> None:
    """Protects MDCalc's surgery-type choice (FACTS §4.2): minor 1, >45 min kinds 2,
    elective lower-extremity arthroplasty 5; a second ticked type never adds."""
    assert score("caprini", ABSENT | {choice: True}).lower == pts
    both = ABSENT | {choice: True, "minor_surgery": True}
    assert score("caprini", both).lower == pts


def test_caprini_thrombophilia_markers_add_up(score: Score) -> None:
    """Protects MDCalc's rule that every thrombophilia marker scores 3 and they add."""
    f = ABSENT | {"factor_v_leiden": True, "prothrombin_20210a": True, "anticardiolipin": True}
    assert score("caprini", f).lower == 9


def test_caprini_point_table_matches_facts() -> None:
    """Protects the 2005 table (FACTS §4.2): seventeen 1-point, eight 2-point, ten 3-point
    and five 5-point items, with groups for age, surgery type and mobility."""
    items = get("caprini").items()
    by_points: dict[float, int] = {}
    for it in items:
        by_points[it.points] = by_points.get(it.points, 0) + 1
    assert by_points == {1: 17, 2: 8, 3: 10, 5: 5}
    groups = {it.exclusive for it in items} - {None}
    assert groups == {"age", "surgery_type", "mobility"}
    women = {it.id for it in items if it.note == "women only"}
    assert women == {"hormones", "pregnancy_or_postpartum", "pregnancy_loss_history"}


def test_caprini_items_of_a_result_keep_the_table_order(score: Score) -> None:
    """Protects readable output: items come back in the FACTS table order with their points."""
    res = score("caprini", {"age": 80})
    assert [i.id for i in res.items] == [i.id for i in get("caprini").items()]
    assert item(res, "age_75_or_over").awarded == 3
