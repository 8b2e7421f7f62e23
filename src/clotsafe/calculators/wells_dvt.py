"""Wells score for deep-vein thrombosis (FACTS.md §1).

Versions (FACTS §1.1): ``"2003"`` (default; Wells 2003 NEJM, NICE two-level) adds
``previous_dvt`` (+1) and uses a 12-week surgery window; ``"1997"`` (Wells 1997 Lancet) has no
``previous_dvt`` item, a 4-week surgery window and three probability levels. Each version has
its own band scheme, kept as separate enums (FACTS §1.4: public calculators that mix them are
wrong), so a version cannot be banded with the other version's scheme.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from clotsafe.calculators.base import Band, Item
from clotsafe.calculators.engine import SCOPE_NOTE, BandScheme, PointsCalculator

V2003 = frozenset({"2003"})
V1997 = frozenset({"1997"})

#: surgery window of the bedridden/surgery item, in weeks, by version (FACTS §1.1, §1.4)
SURGERY_WINDOW_WEEKS = MappingProxyType({"2003": 12, "1997": 4})


class TwoLevel(StrEnum):
    """Wells 2003 / NICE two-level bands (FACTS §1.3)."""

    UNLIKELY = "unlikely"
    LIKELY = "likely"


class ThreeLevel(StrEnum):
    """Wells 1997 three-level bands (FACTS §1.3)."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


ITEMS: tuple[Item, ...] = (
    Item("active_cancer", "Active cancer: on treatment, treated within the last 6 months, "
         "or palliative", 1),
    Item("paralysis_or_cast", "Paralysis, paresis, or recent plaster immobilisation of a "
         "lower limb", 1),
    Item("bedridden_or_major_surgery", "Bedridden recently for 3 days or more, or major surgery "
         "within 12 weeks needing general or regional anaesthesia", 1, versions=V2003),
    Item("bedridden_or_major_surgery", "Bedridden recently for more than 3 days, or major "
         "surgery within 4 weeks", 1, versions=V1997),
    Item("localised_tenderness", "Localised tenderness along the distribution of the deep "
         "venous system", 1),
    Item("entire_leg_swollen", "Entire leg swollen", 1),
    Item("calf_swelling", "Calf swelling at least 3 cm more than the other leg, measured 10 cm "
         "below the tibial tuberosity", 1, versions=V2003),
    Item("calf_swelling", "Calf swelling more than 3 cm compared with the other leg, measured "
         "10 cm below the tibial tuberosity", 1, versions=V1997),
    Item("pitting_oedema", "Pitting oedema confined to the symptomatic leg", 1, versions=V2003),
    Item("pitting_oedema", "Pitting oedema greater in the symptomatic leg", 1, versions=V1997),
    Item("collateral_veins", "Collateral superficial veins (not varicose)", 1),
    Item("previous_dvt", "Previously documented DVT", 1, versions=V2003),
    Item("alternative_diagnosis", "An alternative diagnosis at least as likely as DVT", -2),
)  # fmt: skip

TWO_LEVEL = BandScheme("two_level", "Wells 2003 two-level (NICE)", (
    Band(TwoLevel.UNLIKELY.value, "DVT unlikely (≤1)", None, 1),
    Band(TwoLevel.LIKELY.value, "DVT likely (≥2)", 2, None),
), ("S3", "S4"))  # fmt: skip

THREE_LEVEL = BandScheme("three_level", "Wells 1997 three-level", (
    Band(ThreeLevel.LOW.value, "Low probability (≤0)", None, 0),
    Band(ThreeLevel.MODERATE.value, "Moderate probability (1–2)", 1, 2),
    Band(ThreeLevel.HIGH.value, "High probability (≥3)", 3, None),
), ("S2", "S5"))  # fmt: skip

WELLS_DVT = PointsCalculator(
    name="wells_dvt",
    title="Wells score for DVT",
    citation="Wells PS et al. N Engl J Med 2003;349:1227–35 [S3], NICE two-level table [S4]; "
    "Wells PS et al. Lancet 1997;350:1795–98 [S2]; MDCalc [S5]",
    sources=("S2", "S3", "S4", "S5"),
    versions=("2003", "1997"),
    band_schemes=("two_level", "three_level"),
    measurements=MappingProxyType({}),
    table=ITEMS,
    schemes=MappingProxyType({"two_level": TWO_LEVEL, "three_level": THREE_LEVEL}),
    version_schemes=MappingProxyType({"2003": ("two_level",), "1997": ("three_level",)}),
    notes=(SCOPE_NOTE,),
)
