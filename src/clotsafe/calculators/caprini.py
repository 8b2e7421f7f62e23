"""Caprini risk assessment model, 2005 version (FACTS.md §4).

Items and points are Caprini 2005 (FACTS §4.2), scored as MDCalc does: age is one choice,
surgery type is one choice (minor 1; arthroscopic, major open or laparoscopic >45 min 2;
elective major lower-extremity arthroplasty 5), mobility is one choice (bed rest 1; confined to
bed >72 h 2), and every thrombophilia marker scores 3, so several markers add up.

Band schemes: ``"2005"`` (default; Caprini 2005: 0–1 low, 2 moderate, 3–4 high, ≥5 highest)
and ``"accp"`` (ACCP 2012 / MDCalc: 0 very low, 1–2 low, 3–4 moderate, 5–6 high, 7–8 high,
≥9 highest; the two "high" bands have distinct ids).

The three women-only items are plain findings here; :mod:`.caprini_intake` sets them from the
client's ``sex``.
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


class Bands2005(StrEnum):
    """Caprini 2005 (Dis Mon) bands (FACTS §4.3)."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    HIGHEST = "highest"


class BandsAccp(StrEnum):
    """ACCP 2012 / MDCalc bands (FACTS §4.3)."""

    VERY_LOW = "very_low"
    LOW = "low"
    MODERATE = "moderate"
    HIGH_5_6 = "high_5_6"
    HIGH_7_8 = "high_7_8"
    HIGHEST = "highest"


AGE, SURGERY, MOBILITY = "age", "surgery_type", "mobility"
WOMEN = "women only"

ITEMS: tuple[Item, ...] = (
    # 1 point
    Item("age_41_60", "Age 41–60 years", 1, AGE),
    Item("minor_surgery", "Minor surgery planned (anaesthesia <45 min)", 1, SURGERY),
    Item("major_surgery_past_month", "History of major surgery (<1 month)", 1),
    Item("varicose_veins", "Varicose veins (bulging, not spider veins)", 1),
    Item("inflammatory_bowel_disease", "History of inflammatory bowel disease", 1),
    Item("swollen_legs", "Swollen legs (current)", 1),
    Item("obesity_bmi_over_25", "Obesity (BMI >25)", 1),
    Item("acute_mi", "Acute myocardial infarction", 1),
    Item("chf_past_month", "Congestive heart failure (<1 month)", 1),
    Item("sepsis_past_month", "Sepsis (<1 month)", 1),
    Item("lung_disease_past_month", "Serious lung disease incl. pneumonia (<1 month)", 1),
    Item("copd", "Abnormal pulmonary function (COPD)", 1),
    Item("bed_rest_medical", "Medical patient currently at bed rest", 1, MOBILITY),
    Item("other_risk_factors", "Other risk factors", 1),
    Item("hormones", "Oral contraceptives or hormone replacement", 1, note=WOMEN),
    Item("pregnancy_or_postpartum", "Pregnancy or postpartum (<1 month)", 1, note=WOMEN),
    Item("pregnancy_loss_history", "History of unexplained stillbirth, recurrent spontaneous "
         "abortion (≥3), or premature birth with toxaemia or growth-restricted infant", 1,
         note=WOMEN),
    # 2 points
    Item("age_61_74", "Age 61–74 years", 2, AGE),
    Item("arthroscopic_surgery", "Arthroscopic surgery", 2, SURGERY),
    Item("major_open_surgery", "Major open surgery (>45 min)", 2, SURGERY),
    Item("laparoscopic_surgery", "Laparoscopic surgery (>45 min)", 2, SURGERY),
    Item("malignancy", "Malignancy (present or previous)", 2),
    Item("confined_to_bed", "Confined to bed (>72 h)", 2, MOBILITY),
    Item("plaster_cast_past_month", "Immobilising plaster cast (<1 month)", 2),
    Item("central_venous_access", "Central venous access", 2),
    # 3 points
    Item("age_75_or_over", "Age ≥75 years", 3, AGE),
    Item("history_dvt_pe", "History of DVT/PE", 3),
    Item("family_history_thrombosis", "Family history of thrombosis", 3),
    Item("factor_v_leiden", "Positive factor V Leiden", 3),
    Item("prothrombin_20210a", "Positive prothrombin 20210A", 3),
    Item("homocysteine", "Elevated serum homocysteine", 3),
    Item("lupus_anticoagulant", "Positive lupus anticoagulant", 3),
    Item("anticardiolipin", "Elevated anticardiolipin antibodies", 3),
    Item("heparin_induced_thrombocytopenia", "Heparin-induced thrombocytopenia", 3),
    Item("other_thrombophilia", "Other congenital or acquired thrombophilia", 3),
    # 5 points
    Item("stroke_past_month", "Stroke (<1 month)", 5),
    Item("elective_lower_extremity_arthroplasty", "Elective major lower-extremity arthroplasty",
         5, SURGERY),
    Item("hip_pelvis_leg_fracture_past_month", "Hip, pelvis or leg fracture (<1 month)", 5),
    Item("multiple_trauma_past_month", "Multiple trauma (<1 month)", 5),
    Item("spinal_cord_injury_past_month", "Acute spinal cord injury / paralysis (<1 month)", 5),
)  # fmt: skip

WOMEN_ONLY: tuple[str, ...] = tuple(it.id for it in ITEMS if it.note == WOMEN)

BANDS_2005 = BandScheme("2005", "Caprini 2005 (Dis Mon)", (
    Band(Bands2005.LOW.value, "Low (0–1)", None, 1),
    Band(Bands2005.MODERATE.value, "Moderate (2)", 2, 2),
    Band(Bands2005.HIGH.value, "High (3–4)", 3, 4),
    Band(Bands2005.HIGHEST.value, "Highest (≥5)", 5, None),
), ("S11", "S18b"))  # fmt: skip

BANDS_ACCP = BandScheme("accp", "ACCP 2012 / MDCalc", (
    Band(BandsAccp.VERY_LOW.value, "Very low (0)", None, 0),
    Band(BandsAccp.LOW.value, "Low (1–2)", 1, 2),
    Band(BandsAccp.MODERATE.value, "Moderate (3–4)", 3, 4),
    Band(BandsAccp.HIGH_5_6.value, "High (5–6)", 5, 6),
    Band(BandsAccp.HIGH_7_8.value, "High (7–8)", 7, 8),
    Band(BandsAccp.HIGHEST.value, "Highest (≥9)", 9, None),
), ("S5", "S15", "S16", "S17"))  # fmt: skip

#: age bands as printed are whole years (41–60, 61–74, ≥75); a non-whole age between two
#: printed ranges goes to the higher band (the cautious reading, docs/calculators.md)
RULES = (
    MeasurementRule("age", "age_41_60", lambda a: 40 < a <= 60, "40 < age ≤ 60 years"),
    MeasurementRule("age", "age_61_74", lambda a: 60 < a <= 74, "60 < age ≤ 74 years"),
    MeasurementRule("age", "age_75_or_over", lambda a: a > 74, "age > 74 years"),
    MeasurementRule("bmi", "obesity_bmi_over_25", lambda b: b > 25, "bmi > 25 kg/m²"),
)

CAPRINI = PointsCalculator(
    name="caprini",
    title="Caprini risk assessment model (2005)",
    citation="Caprini JA. Dis Mon 2005;51:70–78 [S11]; form reproductions [S18]; bands [S18b]; "
    "MDCalc scoring rules and ACCP bands [S5][S15][S16][S17]",
    sources=("S5", "S11", "S15", "S16", "S17", "S18", "S18b"),
    versions=("2005",),
    band_schemes=("2005", "accp"),
    measurements=MappingProxyType({"age": "years", "bmi": "kg/m²"}),
    table=ITEMS,
    schemes=MappingProxyType({"2005": BANDS_2005, "accp": BANDS_ACCP}),
    version_schemes=MappingProxyType({"2005": ("2005", "accp")}),
    rules=RULES,
    notes=(SCOPE_NOTE,),
)
