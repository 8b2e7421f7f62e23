"""Wells score for pulmonary embolism (FACTS.md §2).

One item set (Wells 2000 derivation [S6], bedside use 2001 [S7]); two band schemes:
``"three_tier"`` (default; low <2, moderate 2–6, high >6) and ``"two_tier"`` (PE unlikely ≤4,
likely >4). Points come in 0.5 steps, so the strict cut-offs are written as inclusive bounds on
that grid: low ≤1.5, high ≥6.5, likely ≥4.5 (FACTS §2: 1.5 and 4.5 must have a band).
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from clotsafe.calculators.base import Band, Item
from clotsafe.calculators.engine import (
    SCOPE_NOTE,
    BandScheme,
    MeasurementRule,
    PointsCalculator,
)


class ThreeTier(StrEnum):
    """Three-tier bands (FACTS §2)."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class TwoTier(StrEnum):
    """Two-tier bands (FACTS §2; Christopher study)."""

    UNLIKELY = "unlikely"
    LIKELY = "likely"


ITEMS: tuple[Item, ...] = (
    Item("dvt_signs", "Clinical signs and symptoms of DVT (at least leg swelling and pain on "
         "palpation of the deep veins)", 3.0),
    Item("pe_most_likely", "PE is the most likely diagnosis, or equally likely", 3.0),
    Item("heart_rate_over_100", "Heart rate >100/min", 1.5),
    Item("immobilisation_or_surgery", "Immobilisation for 3 days or more, or surgery in the "
         "previous 4 weeks", 1.5),
    Item("previous_dvt_or_pe", "Previous objectively diagnosed DVT or PE", 1.5),
    Item("haemoptysis", "Haemoptysis", 1.0),
    Item("malignancy", "Malignancy: on treatment, treated in the last 6 months, or palliative",
         1.0),
)  # fmt: skip

THREE_TIER = BandScheme("three_tier", "Wells PE three-tier", (
    Band(ThreeTier.LOW.value, "Low (<2)", None, 1.5),
    Band(ThreeTier.MODERATE.value, "Moderate (2–6)", 2, 6),
    Band(ThreeTier.HIGH.value, "High (>6)", 6.5, None),
), ("S5", "S6"))  # fmt: skip

TWO_TIER = BandScheme("two_tier", "Wells PE two-tier", (
    Band(TwoTier.UNLIKELY.value, "PE unlikely (≤4)", None, 4),
    Band(TwoTier.LIKELY.value, "PE likely (>4)", 4.5, None),
), ("S5", "S7", "S8"))  # fmt: skip

RULES = (
    MeasurementRule("heart_rate", "heart_rate_over_100", lambda hr: hr > 100,
                    "heart_rate > 100 bpm"),
)  # fmt: skip

WELLS_PE = PointsCalculator(
    name="wells_pe",
    title="Wells score for PE",
    citation="Wells PS et al. Thromb Haemost 2000;83:416–20 [S6]; Wells PS et al. Ann Intern "
    "Med 2001;135:98–107 [S7]; van Belle A et al. JAMA 2006 [S8]; MDCalc [S5]",
    sources=("S5", "S6", "S7", "S8"),
    versions=("2000",),
    band_schemes=("three_tier", "two_tier"),
    measurements=MappingProxyType({"heart_rate": "beats per minute"}),
    table=ITEMS,
    schemes=MappingProxyType({"three_tier": THREE_TIER, "two_tier": TWO_TIER}),
    version_schemes=MappingProxyType({"2000": ("three_tier", "two_tier")}),
    rules=RULES,
    notes=(SCOPE_NOTE,),
)
