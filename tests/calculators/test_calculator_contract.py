"""What every calculator promises: registry, bounds under unknowns, errors that name the key."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import pytest

from clotsafe.calculators import (
    CalculatorError,
    InvalidValue,
    ScoreResult,
    UnknownBandScheme,
    UnknownItem,
    UnknownVersion,
    builtin_calculators,
    get,
)

from .helpers import item

Score = Callable[..., ScoreResult]
NAMES = ("wells_dvt", "wells_pe", "perc", "caprini", "padua")


def test_the_five_shipped_calculators_are_registered() -> None:
    """Protects the one seam: every shipped score is reachable through the built-in registry."""
    assert set(NAMES) <= set(builtin_calculators())
    for name in NAMES:
        assert get(name).name == name


@pytest.mark.parametrize("name", NAMES)
def test_every_calculator_cites_facts_sources(name: str) -> None:
    """Protects traceability: every score cites FACTS.md source tags that exist in the
    sources file, and shows each of them in its citation."""
    known = tomllib.loads((files("clotsafe.knowledge") / "sources.toml").read_text("utf-8"))
    calc = get(name)
    assert calc.sources
    for tag in calc.sources:
        assert tag in known, tag
        assert f"[{tag}]" in calc.citation, tag
    assert calc.versions and calc.band_schemes


@pytest.mark.parametrize("name", NAMES)
def test_all_unknown_gives_the_full_range(name: str, score: Score) -> None:
    """Protects "unknown is never absent": with nothing known the upper bound is the highest
    possible score and every item is listed as unknown."""
    calc = get(name)
    res = score(name, {})
    assert res.unknown == tuple(dict.fromkeys(i.id for i in calc.items()))
    assert res.upper > res.lower


@pytest.mark.parametrize("name", NAMES)
def test_all_absent_scores_zero_with_no_unknowns(name: str, score: Score) -> None:
    """Protects the baseline: every item known absent scores 0 and leaves nothing unknown."""
    res = score(name, {i.id: False for i in get(name).items()})
    assert (res.lower, res.upper, res.unknown) == (0, 0, ())


def test_unknown_items_count_in_the_upper_bound_only(score: Score) -> None:
    """Protects POLICY §4: an unknown item is absent in the lower and present in the upper
    bound, and it is reported by id."""
    res = score("padua", {"active_cancer": True, "previous_vte": None})
    assert res.lower == 3
    assert res.upper == 3 + 3 + 3 + 3 + 2 + 1 * 6
    assert "previous_vte" in res.unknown and "active_cancer" not in res.unknown
    assert item(res, "previous_vte").present is None
    assert item(res, "previous_vte").awarded == 0


def test_band_upper_is_the_band_of_the_upper_bound(score: Score) -> None:
    """Protects the cautious band: with unknowns, band_upper shows how high it could be."""
    res = score("padua", {"active_cancer": False, "previous_vte": None})
    assert (res.band, res.band_upper) == ("low", "high")


def test_exclusive_group_scores_its_highest_present_item(score: Score) -> None:
    """Protects one-choice items (Caprini mobility): bed rest and confined to bed never add
    up; the higher one scores and the other is present but awarded 0."""
    res = score(
        "caprini",
        {i.id: False for i in get("caprini").items()}
        | {"bed_rest_medical": True, "confined_to_bed": True},
    )
    assert res.lower == res.upper == 2
    assert item(res, "confined_to_bed").awarded == 2
    assert item(res, "bed_rest_medical").present is True
    assert item(res, "bed_rest_medical").awarded == 0


def test_exclusive_group_upper_takes_the_highest_unknown_choice(score: Score) -> None:
    """Protects bounds in one-choice groups: a known lower choice with an unknown higher one
    scores the lower choice in the lower bound and the higher one in the upper bound."""
    base = {i.id: False for i in get("caprini").items()}
    res = score(
        "caprini", base | {"minor_surgery": True, "elective_lower_extremity_arthroplasty": None}
    )
    assert (res.lower, res.upper) == (1, 5)


def test_unknown_age_takes_the_highest_age_band_in_the_upper_bound(score: Score) -> None:
    """Protects the age choice: with age unknown the upper bound counts age ≥75 (3), never
    all three age bands together."""
    base = {i.id: False for i in get("caprini").items() if not i.id.startswith("age_")}
    res = score("caprini", base)
    assert (res.lower, res.upper) == (0, 3)


def test_an_unknown_negative_item_lowers_only_the_lower_bound(score: Score) -> None:
    """Protects the meaning of the bounds with Wells' −2 item: an unknown alternative
    diagnosis may subtract 2, so the lower bound includes it and the upper bound does not."""
    base = {i.id: False for i in get("wells_dvt").items()}
    res = score("wells_dvt", base | {"entire_leg_swollen": True, "alternative_diagnosis": None})
    assert (res.lower, res.upper) == (-1, 1)
    assert item(res, "alternative_diagnosis").awarded == -2


def test_an_item_given_directly_wins_over_its_measurement(score: Score) -> None:
    """Protects explicit answers: a clinician's item finding is not overwritten by a number."""
    res = score("wells_pe", {"heart_rate_over_100": False, "heart_rate": 130})
    assert item(res, "heart_rate_over_100").present is False


def test_a_measurement_fills_its_item_when_the_item_is_not_given(score: Score) -> None:
    """Protects derived items: a heart rate of 130 makes the >100 item present."""
    res = score("wells_pe", {"heart_rate": 130})
    assert item(res, "heart_rate_over_100").present is True


def test_a_null_measurement_leaves_its_item_unknown(score: Score) -> None:
    """Protects unknowns: a measurement given as null is not a normal value."""
    res = score("perc", {"age": None})
    assert "age_50_or_over" in res.unknown


def test_unknown_key_error_names_the_key_and_lists_valid_ids(score: Score) -> None:
    """Protects error messages at the edge: a typo names itself and the valid keys."""
    with pytest.raises(UnknownItem) as exc:
        score("perc", {"hemoptysis": True})
    msg = str(exc.value)
    assert "'hemoptysis'" in msg and "haemoptysis" in msg and "oxygen_saturation" in msg
    assert exc.value.key == "hemoptysis"
    assert isinstance(exc.value, ValueError)


def test_an_item_of_another_version_is_an_unknown_key(score: Score) -> None:
    """Protects versions: Wells 1997 has no previous-DVT item, so passing one is an error
    rather than a silently ignored finding."""
    with pytest.raises(UnknownItem, match="previous_dvt"):
        score("wells_dvt", {"previous_dvt": True}, version="1997")


@pytest.mark.parametrize("value", ["yes", 1, 0.0, [True]])
def test_findings_must_be_true_false_or_none(value: Any, score: Score) -> None:
    """Protects three-valued findings: "yes" or 1 is not silently taken as present."""
    with pytest.raises(InvalidValue, match="haemoptysis"):
        score("perc", {"haemoptysis": value})


@pytest.mark.parametrize("value", ["50", True, float("nan"), -1])
def test_measurements_must_be_finite_non_negative_numbers(value: Any, score: Score) -> None:
    """Protects derived items from junk numbers (text, booleans, NaN, negatives)."""
    with pytest.raises(InvalidValue, match="age"):
        score("perc", {"age": value})


def test_unknown_version_and_band_scheme_are_errors(score: Score) -> None:
    """Protects explicit parameters: a version or band scheme that does not exist is named
    with the valid choices, never replaced by the default."""
    with pytest.raises(UnknownVersion, match="2003, 1997"):
        score("wells_dvt", {}, version="2010")
    with pytest.raises(UnknownBandScheme, match="three_tier, two_tier"):
        score("wells_pe", {}, bands="three_level")
    assert issubclass(UnknownVersion, CalculatorError)


def test_to_dict_is_the_public_shape(score: Score) -> None:
    """Protects the JSON contract of a score: bounds, bands, items, unknown, not assessed."""
    d = score("caprini", {"age": 62, "bmi": 31}).to_dict()
    assert {
        "calculator",
        "version",
        "band_scheme",
        "lower",
        "upper",
        "band",
        "band_upper",
        "items",
        "unknown",
        "not_assessed",
        "notes",
    } <= set(d)
    assert d["calculator"] == "caprini" and d["version"] == "2005" and d["band_scheme"] == "2005"
    assert d["lower"] == 3 and isinstance(d["lower"], int)
    first = d["items"][0]
    assert set(first) == {"id", "points", "present", "awarded"}


@pytest.mark.parametrize("name", NAMES)
def test_every_result_carries_the_scope_warning(name: str, score: Score) -> None:
    """Protects FACTS' scope warning: no score may be read as clearing a symptomatic client."""
    assert any("never be used to clear a client" in n for n in score(name, {}).notes)


def test_a_calculator_registered_twice_is_an_error() -> None:
    """Registries are explicit objects: a second calculator under one name never silently
    replaces the first (a plug-in cannot shadow Wells DVT), and importing a calculator module
    registers nothing by itself."""
    from clotsafe.calculators import CalculatorRegistry, DuplicateCalculatorError

    reg = CalculatorRegistry(builtin_calculators().values())
    with pytest.raises(DuplicateCalculatorError, match="wells_dvt"):
        reg.register(get("wells_dvt"))
    assert len(CalculatorRegistry()) == 0
    assert list(builtin_calculators()) == ["wells_dvt", "wells_pe", "perc", "caprini", "padua"]
