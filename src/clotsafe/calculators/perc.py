"""PERC, the pulmonary embolism rule-out criteria (FACTS.md §3).

The score is the number of criteria met (0–8). The result is "PERC negative" only when all 8
criteria are known to be absent; any criterion present makes it "PERC positive"; otherwise
(none present, some unknown) it "cannot be applied (unknown items)". The band follows that
statement rather than the lower bound, so an unknown criterion can never read as negative.
PERC only applies when a clinician judges the pre-test probability low (<15%), and it must
never be used to clear a client who has symptoms: every result carries that note.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from clotsafe.calculators.base import Band, Item, ScoreResult
from clotsafe.calculators.engine import (
    SCOPE_NOTE,
    BandScheme,
    MeasurementRule,
    PointsCalculator,
)


class Result(StrEnum):
    """The three PERC statements (used as band ids)."""

    NEGATIVE = "negative"
    POSITIVE = "positive"
    CANNOT_BE_APPLIED = "cannot_be_applied"


STATEMENT = MappingProxyType({
    Result.NEGATIVE: "PERC negative",
    Result.POSITIVE: "PERC positive",
    Result.CANNOT_BE_APPLIED: "cannot be applied (unknown items)",
})  # fmt: skip

GESTALT_NOTE = (
    "PERC only applies when a clinician judges the pre-test probability of PE to be low "
    "(gestalt <15%). It must never be used to clear a client who has symptoms: a massage "
    "therapist cannot set that probability (FACTS.md §3)."
)

ITEMS: tuple[Item, ...] = (
    Item("age_50_or_over", "Age ≥50 years", 1),
    Item("heart_rate_100_or_over", "Heart rate ≥100/min", 1),
    Item("oxygen_saturation_below_95", "Oxygen saturation on room air <95%", 1),
    Item("unilateral_leg_swelling", "Unilateral leg swelling", 1),
    Item("haemoptysis", "Haemoptysis", 1),
    Item("recent_surgery_or_trauma", "Recent surgery or trauma (≤4 weeks) needing "
         "hospitalisation or general anaesthesia", 1),
    Item("prior_dvt_or_pe", "Prior PE or DVT", 1),
    Item("hormone_use", "Hormone use: oral contraceptives, hormone replacement or oestrogen "
         "(any sex)", 1),
)  # fmt: skip

BANDS = BandScheme("rule_out", "PERC rule-out", (
    Band(Result.NEGATIVE.value, "PERC negative (0 criteria, all known)", 0, 0),
    Band(Result.POSITIVE.value, "PERC positive (≥1 criterion)", 1, None),
), ("S5", "S9", "S10"))  # fmt: skip

RULES = (
    MeasurementRule("age", "age_50_or_over", lambda a: a >= 50, "age ≥ 50 years"),
    MeasurementRule("heart_rate", "heart_rate_100_or_over", lambda hr: hr >= 100,
                    "heart_rate ≥ 100 bpm"),
    MeasurementRule("oxygen_saturation", "oxygen_saturation_below_95", lambda s: s < 95,
                    "oxygen_saturation < 95 %"),
)  # fmt: skip


def outcome(result: ScoreResult) -> Result:
    """Negative only when every criterion is known absent (FACTS §3)."""
    if result.lower > 0:
        return Result.POSITIVE
    return Result.CANNOT_BE_APPLIED if result.unknown else Result.NEGATIVE


def _interpret(result: ScoreResult) -> ScoreResult:
    state = outcome(result)
    statement = STATEMENT[state]
    r = result
    extra = MappingProxyType({"result": statement, "criteria_met": int(r.lower)})
    # positional, not dataclasses.replace: replace() re-reads the fields on every call (9 µs)
    return ScoreResult(r.calculator, r.version, r.band_scheme, r.lower, r.upper, state.value,
                       r.band_upper, r.items, r.unknown, r.not_assessed, _NOTES[state],
                       extra)  # fmt: skip


_NOTES = {state: (f"Result: {STATEMENT[state]}.", GESTALT_NOTE, SCOPE_NOTE) for state in Result}


PERC = PointsCalculator(
    name="perc",
    title="PERC rule (pulmonary embolism rule-out criteria)",
    citation="Kline JA et al. J Thromb Haemost 2004;2:1247–55 [S9]; Kline JA et al. J Thromb "
    "Haemost 2008;6:772–80 [S10]; MDCalc [S5]",
    sources=("S5", "S9", "S10"),
    versions=("2004",),
    band_schemes=("rule_out",),
    measurements=MappingProxyType({
        "age": "years", "heart_rate": "beats per minute", "oxygen_saturation": "% on room air"
    }),
    table=ITEMS,
    schemes=MappingProxyType({"rule_out": BANDS}),
    version_schemes=MappingProxyType({"2004": ("rule_out",)}),
    rules=RULES,
    notes=(GESTALT_NOTE, SCOPE_NOTE),
    interpret=_interpret,
)  # fmt: skip
