"""Padua Prediction Score for hospitalised medical patients (FACTS.md §5.1).

High risk ≥4. The age item is ≥70 (the original; one reproduction prints ">70"). Padua is an
inpatient tool: clotsafe computes it from EHR data or a clinician's answers, never from the
client intake (POLICY.md §4).
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


class Risk(StrEnum):
    """Padua bands (FACTS §5.1)."""

    LOW = "low"
    HIGH = "high"


ITEMS: tuple[Item, ...] = (
    Item("active_cancer", "Active cancer (local or distant metastases, and/or chemotherapy or "
         "radiotherapy within 6 months)", 3),
    Item("previous_vte", "Previous VTE (superficial vein thrombosis excluded)", 3),
    Item("reduced_mobility", "Reduced mobility (expected bed rest with bathroom privileges for "
         "3 days or more)", 3),
    Item("known_thrombophilia", "Known thrombophilia (antithrombin, protein C or S deficiency, "
         "factor V Leiden, prothrombin G20210A, antiphospholipid syndrome)", 3),
    Item("recent_trauma_or_surgery", "Recent trauma and/or surgery (≤1 month)", 2),
    Item("age_70_or_over", "Elderly age (≥70 years)", 1),
    Item("heart_or_respiratory_failure", "Heart and/or respiratory failure", 1),
    Item("acute_mi_or_ischaemic_stroke", "Acute myocardial infarction or ischaemic stroke", 1),
    Item("acute_infection_or_rheumatologic", "Acute infection and/or rheumatologic disorder", 1),
    Item("obesity_bmi_30_or_over", "Obesity (BMI ≥30)", 1),
    Item("hormonal_treatment", "Ongoing hormonal treatment", 1),
)  # fmt: skip

BANDS = BandScheme("2010", "Padua 2010", (
    Band(Risk.LOW.value, "Low risk (<4)", None, 3),
    Band(Risk.HIGH.value, "High risk (≥4)", 4, None),
), ("S19", "S20"))  # fmt: skip

RULES = (
    MeasurementRule("age", "age_70_or_over", lambda a: a >= 70, "age ≥ 70 years"),
    MeasurementRule("bmi", "obesity_bmi_30_or_over", lambda b: b >= 30, "bmi ≥ 30 kg/m²"),
)

PADUA = PointsCalculator(
    name="padua",
    title="Padua Prediction Score",
    citation="Barbar S et al. J Thromb Haemost 2010;8:2450–57 [S19]; ACCP AT9 Table 2 [S20]",
    sources=("S19", "S20"),
    versions=("2010",),
    band_schemes=("2010",),
    measurements=MappingProxyType({"age": "years", "bmi": "kg/m²"}),
    table=ITEMS,
    schemes=MappingProxyType({"2010": BANDS}),
    version_schemes=MappingProxyType({"2010": ("2010",)}),
    rules=RULES,
    notes=(SCOPE_NOTE, "Padua is for hospitalised medical patients (an inpatient tool)."),
)
