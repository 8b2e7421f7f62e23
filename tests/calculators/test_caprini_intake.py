"""Caprini 2005 from the client intake (POLICY §4, docs/calculators.md mapping table)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from clotsafe.calculators import ScoreResult, caprini_from_intake
from clotsafe.calculators import caprini_intake as ci
from clotsafe.domain.intake import Answers

from .helpers import AT, days_ago, item

Caprini = Callable[..., ScoreResult]

#: a complete intake where nothing scores (age ≤40, BMI ≤25, every question "no")
ALL_NO: dict[str, Any] = {qid: "no" for _, qid in ci.DIRECT} | {
    "age": 30,
    "sex": "female",
    "bmi": 22,
    "surgery_recent": "no",
    "leg_injury": "no",
    "cancer_active": "no",
    "cancer_past": "no",
    "clot_ever": "no",
    "thrombophilia": "no",
    "hormones": "no",
    "pregnant": "no",
    "gave_birth": "no",
    "pregnancy_loss_history": "no",
}


def without(*qids: str) -> dict[str, Any]:
    return {k: v for k, v in ALL_NO.items() if k not in qids}


def present(res: ScoreResult, item_id: str) -> bool | None:
    return item(res, item_id).present


def test_a_complete_all_no_intake_scores_zero(caprini_intake: Caprini) -> None:
    """Protects the baseline: a fully answered intake with no risk factor is 0–0, low."""
    res = caprini_intake(**ALL_NO)
    assert (res.lower, res.upper, res.band, res.unknown) == (0, 0, "low", ())
    assert (res.calculator, res.version, res.band_scheme) == ("caprini", "2005", "2005")


@pytest.mark.parametrize(("item_id", "qid"), ci.DIRECT)
@pytest.mark.parametrize(
    ("answer", "expected"), [("yes", True), ("unsure", True), ("no", False), (None, None)]
)
def test_one_question_items(
    item_id: str, qid: str, answer: str | None, expected: bool | None, caprini_intake: Caprini
) -> None:
    """Protects the one-question mappings (varicose, ibd, limb swelling, MI, CHF, sepsis,
    pneumonia, COPD, both bed-rest questions, central line, family clots, stroke, multiple
    trauma, spinal cord injury): yes or unsure is present (POLICY §2), no is absent and a
    missing answer is unknown, counted in the upper bound only."""
    answers = without(qid) | ({} if answer is None else {qid: answer})
    res = caprini_intake(**answers)
    assert present(res, item_id) is expected
    points = item(res, item_id).points
    assert res.lower == (points if expected else 0)
    assert res.upper == (0 if expected is False else points)


@pytest.mark.parametrize(
    ("age", "item_id"),
    [
        (40, None),
        (41, "age_41_60"),
        (60, "age_41_60"),
        (61, "age_61_74"),
        (74, "age_61_74"),
        (75, "age_75_or_over"),
    ],
)
def test_age_bands_from_age(age: int, item_id: str | None, caprini_intake: Caprini) -> None:
    """Protects the age mapping: ``age`` picks one Caprini age band."""
    res = caprini_intake(**ALL_NO | {"age": age})
    got = [i.id for i in res.items if i.id.startswith("age_") and i.present]
    assert got == ([item_id] if item_id else [])


def test_missing_age_counts_the_highest_age_band_in_the_upper_bound(
    caprini_intake: Caprini,
) -> None:
    """Protects unknown age: it adds 3 (age ≥75) to the upper bound and nothing below."""
    res = caprini_intake(**without("age"))
    assert (res.lower, res.upper) == (0, 3)
    assert {"age_41_60", "age_61_74", "age_75_or_over"} <= set(res.unknown)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"bmi": 25}, False),
        ({"bmi": 25.1}, True),
        ({"height_cm": 170, "weight_kg": 73}, True),  # 25.3
        ({"height_cm": 180, "weight_kg": 80}, False),  # 24.7
        ({"bmi": 24, "height_cm": 170, "weight_kg": 80}, True),  # either source over 25 counts
        ({"height_cm": 170}, None),
        ({}, None),
    ],
)
def test_obesity_from_bmi_or_height_and_weight(
    answers: dict[str, Any], expected: bool | None, caprini_intake: Caprini
) -> None:
    """Protects the obesity item: BMI >25 from ``bmi`` or from height and weight; with
    neither it is unknown; when both are given and disagree, over 25 wins (cautious)."""
    res = caprini_intake(**without("bmi") | answers)
    assert present(res, "obesity_bmi_over_25") is expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"surgery_recent": "yes", "surgery_on": days_ago(28), "surgery_kind": "major"}, True),
        ({"surgery_recent": "yes", "surgery_on": days_ago(29), "surgery_kind": "major"}, False),
        ({"surgery_recent": "yes", "surgery_kind": "major"}, True),  # no date: within 28 days
        ({"surgery_recent": "yes", "surgery_on": days_ago(3), "surgery_kind": "minor"}, False),
        (
            {
                "surgery_recent": "yes",
                "surgery_on": days_ago(3),
                "surgery_kind": "joint_replacement_leg",
            },
            True,
        ),
        ({"surgery_recent": "yes", "surgery_on": days_ago(3), "surgery_kind": "unsure"}, True),
        ({"surgery_recent": "yes", "surgery_on": days_ago(3)}, True),  # kind missing counts
        ({"surgery_recent": "unsure"}, True),
        ({"surgery_recent": "no"}, False),
        ({}, None),
    ],
)
def test_major_surgery_in_the_last_month(
    answers: dict[str, Any], expected: bool | None, caprini_intake: Caprini
) -> None:
    """Protects POLICY §4: a major or joint-replacement operation (kind unsure or missing
    counts as major, no date counts as recent) within 28 days maps to "major surgery <1
    month" (1 point); day 28 is in, day 29 out; minor surgery does not count."""
    res = caprini_intake(**without("surgery_recent") | answers)
    assert present(res, "major_surgery_past_month") is expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"leg_injury": "yes", "leg_injury_on": days_ago(28), "leg_injury_ongoing": "no"}, True),
        ({"leg_injury": "yes", "leg_injury_on": days_ago(29), "leg_injury_ongoing": "no"}, False),
        ({"leg_injury": "yes", "leg_injury_on": days_ago(60), "leg_injury_ongoing": "yes"}, True),
        (
            {"leg_injury": "yes", "leg_injury_on": days_ago(60), "leg_injury_ongoing": "unsure"},
            True,
        ),
        ({"leg_injury": "yes", "leg_injury_on": days_ago(60)}, True),  # "still on?" unanswered
        ({"leg_injury": "unsure"}, True),  # no date: within 28 days
        ({"leg_injury": "no"}, False),
        ({}, None),
    ],
)
def test_plaster_cast_in_the_last_month(
    answers: dict[str, Any], expected: bool | None, caprini_intake: Caprini
) -> None:
    """Protects the immobilising-cast item (2 points): a leg injury still in a cast/boot/
    brace, or dated within 28 days (or undated); day 28 in, day 29 out; an old injury
    with the "still on?" question unanswered reads as unsure, i.e. still on (the project's
    missing_detail_as_unsure reading)."""
    res = caprini_intake(**without("leg_injury") | answers)
    assert present(res, "plaster_cast_past_month") is expected


@pytest.mark.parametrize(
    ("active", "past", "expected"),
    [
        ("yes", "no", True),
        ("no", "unsure", True),
        ("no", "no", False),
        ("no", None, None),
        (None, "yes", True),
        (None, None, None),
    ],
)
def test_malignancy_present_or_previous(
    active: str | None, past: str | None, expected: bool | None, caprini_intake: Caprini
) -> None:
    """Protects the malignancy item (2 points): current or past cancer counts; absent only
    when both questions are answered no."""
    answers = without("cancer_active", "cancer_past")
    answers |= {k: v for k, v in (("cancer_active", active), ("cancer_past", past)) if v}
    assert present(caprini_intake(**answers), "malignancy") is expected


def clot(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "site": "left_calf",
        "diagnosed_on": days_ago(400),
        "treatment": "finished",
    }


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"clot_ever": "yes", "clots": [clot("dvt")]}, True),
        ({"clot_ever": "yes", "clots": [clot("svt"), clot("pe")]}, True),
        ({"clot_ever": "unsure", "clots": [clot("unsure")]}, True),  # unsure counts as dvt
        ({"clot_ever": "yes", "clots": [clot("svt"), clot("other")]}, False),
        ({"clot_ever": "no"}, False),
        ({"clot_ever": "no", "clots": [clot("dvt")]}, True),  # a record outweighs a "no"
        ({"clot_ever": "yes"}, None),
        ({"clot_ever": "unsure"}, None),
        ({}, None),
    ],
)
def test_history_of_dvt_or_pe_from_clot_records(
    answers: dict[str, Any], expected: bool | None, caprini_intake: Caprini
) -> None:
    """Protects the DVT/PE history item (3 points): any dvt, pe or unsure record is present;
    svt/other records only, or clot_ever no, is absent; clot_ever yes without records, or
    missing, is unknown."""
    res = caprini_intake(**without("clot_ever") | answers)
    assert present(res, "history_dvt_pe") is expected


MARKER_ITEMS = [item_id for item_id, _ in ci.MARKERS]


def markers(res: ScoreResult) -> dict[str, bool | None]:
    return {i: present(res, i) for i in MARKER_ITEMS}


def test_thrombophilia_no_makes_every_marker_absent(caprini_intake: Caprini) -> None:
    """Protects the thrombophilia mapping: "no" rules out every marker."""
    assert set(markers(caprini_intake(**ALL_NO)).values()) == {False}


def test_listed_thrombophilia_markers_score_3_each(caprini_intake: Caprini) -> None:
    """Protects MDCalc's additive markers: factor V Leiden and HIT listed score 3 + 3; the
    markers not listed are absent."""
    res = caprini_intake(
        **ALL_NO | {"thrombophilia": "yes", "thrombophilia_markers": ["factor_v_leiden", "hit"]}
    )
    m = markers(res)
    assert m.pop("factor_v_leiden") is True and m.pop("heparin_induced_thrombocytopenia") is True
    assert set(m.values()) == {False}
    assert (res.lower, res.upper) == (6, 6)


@pytest.mark.parametrize("answer", ["yes", "unsure"])
def test_thrombophilia_without_a_marker_is_other_thrombophilia(
    answer: str, caprini_intake: Caprini
) -> None:
    """Protects "yes/unsure with no marker listed": it scores "other congenital or acquired
    thrombophilia" (3) and leaves the named markers unknown (upper bound only)."""
    res = caprini_intake(**ALL_NO | {"thrombophilia": answer})
    m = markers(res)
    assert m.pop("other_thrombophilia") is True
    assert set(m.values()) == {None}
    assert res.lower == 3 and res.upper == 3 + 3 * 6


def test_thrombophilia_marker_other(caprini_intake: Caprini) -> None:
    """Protects the "other" marker name: it maps to other thrombophilia (3)."""
    res = caprini_intake(**ALL_NO | {"thrombophilia": "yes", "thrombophilia_markers": ["other"]})
    assert present(res, "other_thrombophilia") is True and res.lower == 3


def test_thrombophilia_missing_leaves_every_marker_unknown(caprini_intake: Caprini) -> None:
    """Protects unknowns: an unanswered thrombophilia question scores no marker below and
    every marker above."""
    res = caprini_intake(**without("thrombophilia"))
    assert set(markers(res).values()) == {None}
    assert (res.lower, res.upper) == (0, 21)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"pregnant": "yes"}, True),
        ({"pregnant": "unsure"}, True),
        ({"gave_birth": "yes", "birth_on": days_ago(28)}, True),
        ({"gave_birth": "yes", "birth_on": days_ago(29)}, False),
        ({"gave_birth": "unsure"}, True),  # no date: within 28 days
        ({"pregnant": None}, None),
        ({"gave_birth": None}, None),
    ],
)
def test_pregnancy_or_postpartum_under_a_month(
    answers: dict[str, Any], expected: bool | None, caprini_intake: Caprini
) -> None:
    """Protects the women-only pregnancy/postpartum item: pregnant, or gave birth within 28
    days (undated counts); day 28 in, day 29 out; a missing answer is unknown."""
    base = ALL_NO | answers
    res = caprini_intake(**{k: v for k, v in base.items() if v is not None})
    assert present(res, "pregnancy_or_postpartum") is expected


@pytest.mark.parametrize(
    ("sex", "counted"), [("female", True), ("other", True), (None, True), ("male", False)]
)
def test_women_only_items_count_unless_male(
    sex: str | None, counted: bool, caprini_intake: Caprini
) -> None:
    """Protects the cautious reading of the women-only items (hormones, pregnancy or
    postpartum, pregnancy-loss history): they count for female, "other" and unanswered sex,
    and only a "male" answer rules them out."""
    answers = without("sex") | {
        "hormones": "yes",
        "pregnant": "yes",
        "pregnancy_loss_history": "yes",
    }
    if sex:
        answers["sex"] = sex
    res = caprini_intake(**answers)
    assert res.lower == (3 if counted else 0)
    for item_id in ("hormones", "pregnancy_or_postpartum", "pregnancy_loss_history"):
        assert present(res, item_id) is counted


def test_items_without_an_intake_question_are_not_assessed(caprini_intake: Caprini) -> None:
    """Protects POLICY §4: planned operations, "other risk factors" and a recent
    hip/pelvis/leg fracture have no intake question; they are listed as not assessed and
    excluded from both bounds (never counted as unknown or absent)."""
    res = caprini_intake(**ALL_NO)
    assert res.not_assessed == ci.NOT_ASSESSED
    assert set(res.not_assessed) == {
        "minor_surgery",
        "arthroscopic_surgery",
        "major_open_surgery",
        "laparoscopic_surgery",
        "elective_lower_extremity_arthroplasty",
        "other_risk_factors",
        "hip_pelvis_leg_fracture_past_month",
    }
    assert not set(res.not_assessed) & {i.id for i in res.items}
    assert res.upper == 0
    assert any("Not assessed" in n for n in res.notes)


def test_the_window_is_measured_from_the_screening_date_not_the_clock() -> None:
    """Protects "the clock is passed in": the same operation is recent at one screening date
    and not at a later one."""
    answers = Answers.from_mapping(
        ALL_NO | {"surgery_recent": "yes", "surgery_kind": "major", "surgery_on": days_ago(10)}
    )
    assert caprini_from_intake(answers, AT).lower == 1
    assert caprini_from_intake(answers, AT + timedelta(days=19)).lower == 0


def test_band_scheme_can_be_chosen(caprini_intake: Caprini) -> None:
    """Protects the explicit band parameter: the ACCP banding on request (POLICY §4)."""
    answers = Answers.from_mapping(ALL_NO | {"age": 62})
    res = caprini_from_intake(answers, AT, bands="accp")
    assert (res.band_scheme, res.band) == ("accp", "low")
    with pytest.raises(ValueError, match="2005, accp"):
        caprini_from_intake(answers, AT, bands="wells")


def test_a_typical_client_and_its_public_dict(caprini_intake: Caprini) -> None:
    """Protects an end-to-end case and the JSON shape: a 66-year-old woman with BMI 27,
    a past DVT and a hip replacement 3 weeks ago scores 2 + 1 + 3 + 1 = 7 (highest)."""
    res = caprini_intake(
        **ALL_NO
        | {
            "age": 66,
            "bmi": 27,
            "clot_ever": "yes",
            "clots": [clot("dvt")],
            "surgery_recent": "yes",
            "surgery_on": days_ago(21),
            "surgery_kind": "joint_replacement_leg",
        }
    )
    d = res.to_dict()
    assert (d["lower"], d["upper"], d["band"], d["band_upper"]) == (7, 7, "highest", "highest")
    scored = {i["id"]: i["awarded"] for i in d["items"] if i["awarded"]}
    assert scored == {
        "age_61_74": 2,
        "obesity_bmi_over_25": 1,
        "history_dvt_pe": 3,
        "major_surgery_past_month": 1,
    }
    assert d["not_assessed"] == list(ci.NOT_ASSESSED)
    assert d["unknown"] == []


def test_memo_is_bounded_and_returns_equal_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Protects batch speed without stale answers: equal intakes give equal results and
    the memo never grows past its size."""
    monkeypatch.setattr(ci, "CACHE_SIZE", 5)
    ci._CACHE.clear()
    results = [
        caprini_from_intake(Answers.from_mapping(ALL_NO | {"age": a}), AT) for a in range(30, 90)
    ]
    assert len(ci._CACHE) <= 5
    again = caprini_from_intake(Answers.from_mapping(ALL_NO | {"age": 80}), AT)
    assert again == results[80 - 30]
