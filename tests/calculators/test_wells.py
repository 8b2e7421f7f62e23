"""Wells DVT (FACTS §1) and Wells PE (FACTS §2): items, versions and band edges."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clotsafe.calculators import ScoreResult, get, wells_dvt, wells_pe

Score = Callable[..., ScoreResult]

DVT_ONES_2003 = (
    "active_cancer",
    "paralysis_or_cast",
    "bedridden_or_major_surgery",
    "localised_tenderness",
    "entire_leg_swollen",
    "calf_swelling",
    "pitting_oedema",
    "collateral_veins",
    "previous_dvt",
)


def dvt(n_ones: int, *, alt: bool = False, version: str = "2003") -> dict[str, Any]:
    """All items known; the first ``n_ones`` +1 items present."""
    ids = [i for i in DVT_ONES_2003 if version == "2003" or i != "previous_dvt"]
    f: dict[str, Any] = {i: k < n_ones for k, i in enumerate(ids)}
    return f | {"alternative_diagnosis": alt}


@pytest.mark.parametrize(
    ("n", "band"), [(0, "unlikely"), (1, "unlikely"), (2, "likely"), (9, "likely")]
)
def test_wells_dvt_two_level_edges(n: int, band: str, score: Score) -> None:
    """Protects the NICE two-level cut-off: 1 is DVT unlikely, 2 is DVT likely (FACTS §1.3)."""
    res = score("wells_dvt", dvt(n))
    assert (res.lower, res.band, res.band_scheme, res.version) == (n, band, "two_level", "2003")


@pytest.mark.parametrize(
    ("n", "alt", "total", "band"),
    [
        (0, True, -2, "low"),
        (0, False, 0, "low"),
        (1, False, 1, "moderate"),
        (2, False, 2, "moderate"),
        (3, False, 3, "high"),
        (8, False, 8, "high"),
    ],
)
def test_wells_dvt_three_level_edges(
    n: int, alt: bool, total: int, band: str, score: Score
) -> None:
    """Protects the 1997 three-level bands: ≤0 low, 1–2 moderate, ≥3 high (FACTS §1.3)."""
    res = score("wells_dvt", dvt(n, alt=alt, version="1997"), version="1997")
    assert (res.lower, res.band, res.band_scheme) == (total, band, "three_level")


def test_wells_dvt_alternative_diagnosis_subtracts_two(score: Score) -> None:
    """Protects the −2 item (FACTS §1.2): 3 points with an alternative diagnosis is 1."""
    assert score("wells_dvt", dvt(3, alt=True)).lower == 1


def test_wells_dvt_range_matches_facts() -> None:
    """Protects the point table: range −2 to +9 (2003) and −2 to +8 (1997) (FACTS §1.2)."""
    for version, top in (("2003", 9), ("1997", 8)):
        pts = [i.points for i in get("wells_dvt").items(version)]
        assert (sum(p for p in pts if p < 0), sum(p for p in pts if p > 0)) == (-2, top)


def test_wells_dvt_1997_has_no_previous_dvt_item_and_a_4_week_window() -> None:
    """Protects version differences (FACTS §1.1): previous DVT is 2003 only; the surgery
    window is 12 weeks in 2003 and 4 weeks in 1997."""
    calc = get("wells_dvt")
    assert "previous_dvt" not in {i.id for i in calc.items("1997")}
    labels = {v: {i.id: i.label for i in calc.items(v)} for v in ("2003", "1997")}
    assert "12 weeks" in labels["2003"]["bedridden_or_major_surgery"]
    assert "4 weeks" in labels["1997"]["bedridden_or_major_surgery"]
    assert dict(wells_dvt.SURGERY_WINDOW_WEEKS) == {"2003": 12, "1997": 4}


def test_wells_dvt_versions_keep_their_own_band_scheme(score: Score) -> None:
    """Protects FACTS §1.4: the two schemes are never mixed (no "≥2 = high" hybrids)."""
    with pytest.raises(ValueError, match="two_level"):
        score("wells_dvt", {}, version="2003", bands="three_level")
    with pytest.raises(ValueError, match="three_level"):
        score("wells_dvt", {}, version="1997", bands="two_level")
    assert {b.value for b in wells_dvt.TwoLevel} == {"unlikely", "likely"}
    assert {b.value for b in wells_dvt.ThreeLevel} == {"low", "moderate", "high"}


PE_ALL_ABSENT = {i.id: False for i in get("wells_pe").items()}


@pytest.mark.parametrize(
    ("findings", "total", "three", "two"),
    [
        ({}, 0, "low", "unlikely"),
        ({"heart_rate_over_100": True}, 1.5, "low", "unlikely"),
        ({"haemoptysis": True, "malignancy": True}, 2, "moderate", "unlikely"),
        ({"dvt_signs": True, "malignancy": True}, 4, "moderate", "unlikely"),
        ({"dvt_signs": True, "heart_rate_over_100": True}, 4.5, "moderate", "likely"),
        ({"dvt_signs": True, "pe_most_likely": True}, 6, "moderate", "likely"),
        ({"dvt_signs": True, "pe_most_likely": True, "haemoptysis": True}, 7, "high", "likely"),
        (
            {"dvt_signs": True, "pe_most_likely": True, "previous_dvt_or_pe": True},
            7.5,
            "high",
            "likely",
        ),
    ],
)
def test_wells_pe_band_edges_in_both_schemes(
    findings: dict[str, bool], total: float, three: str, two: str, score: Score
) -> None:
    """Protects FACTS §2: 1.5 is low (<2), 2–6 moderate, >6 high; 4 is unlikely and 4.5
    likely — the half-point scores that "0–1" and "≥5" tables leave without a band."""
    f = PE_ALL_ABSENT | findings
    assert score("wells_pe", f).lower == total
    assert score("wells_pe", f, bands="three_tier").band == three
    assert score("wells_pe", f, bands="two_tier").band == two


def test_wells_pe_default_scheme_is_three_tier(score: Score) -> None:
    """Protects POLICY §4 defaults: Wells PE bands three-tier unless asked otherwise."""
    assert score("wells_pe", PE_ALL_ABSENT).band_scheme == "three_tier"


@pytest.mark.parametrize(("hr", "present"), [(100, False), (100.5, True), (101, True)])
def test_wells_pe_heart_rate_over_100(hr: float, present: bool, score: Score) -> None:
    """Protects the heart-rate item: strictly more than 100/min scores 1.5 (FACTS §2)."""
    res = score("wells_pe", {"heart_rate": hr})
    assert res.lower == (1.5 if present else 0)


def test_wells_pe_points_match_facts() -> None:
    """Protects the point table and its 0–12.5 range (FACTS §2)."""
    pts = {i.id: i.points for i in get("wells_pe").items()}
    assert pts == {
        "dvt_signs": 3,
        "pe_most_likely": 3,
        "heart_rate_over_100": 1.5,
        "immobilisation_or_surgery": 1.5,
        "previous_dvt_or_pe": 1.5,
        "haemoptysis": 1,
        "malignancy": 1,
    }
    assert sum(pts.values()) == 12.5
    assert {b.value for b in wells_pe.TwoTier} == {"unlikely", "likely"}
