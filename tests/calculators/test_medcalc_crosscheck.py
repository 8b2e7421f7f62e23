"""Cross-check against MedCalc-Bench-Verified (shared/validation/SOURCE.md).

Every row of ``medcalc_bench_verified_vte.csv`` is scored: each entity of ``relevant_entities``
is mapped to our item ids or measurements (an entity the row does not give stays unknown), and
the ground truth is compared with our LOWER bound, because the dataset scores an entity it does
not give as absent. The rows where they disagree must be exactly the rows listed, with their
reason, in validation/medcalc_disagreements.md: none is skipped silently, and a new
disagreement fails the test.

Print the agreement per calculator with::

    .venv/bin/python -m pytest tests/calculators/test_medcalc_crosscheck.py -s
"""

from __future__ import annotations

import ast
import csv
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clotsafe.calculators import get

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(__file__).resolve().parents[3] / "shared"
CSV = SHARED / "validation/medcalc_bench_verified_vte.csv"
DISAGREEMENTS = REPO / "validation/medcalc_disagreements.md"

Findings = dict[str, Any]

#: dataset calculator name -> our calculator name (and version)
CALCULATORS: Mapping[str, tuple[str, str | None]] = {
    "Wells' Criteria for Pulmonary Embolism": ("wells_pe", None),
    "Wells' Criteria for DVT": ("wells_dvt", "2003"),
    "PERC Rule for Pulmonary Embolism": ("perc", None),
    "Caprini Score for Venous Thromboembolism (2005)": ("caprini", "2005"),
}


def _measure(name: str) -> Callable[[Findings, Any], None]:
    def put(f: Findings, value: Any) -> None:
        f[name] = float(value[0])

    return put


def _item(item: str) -> Callable[[Findings, Any], None]:
    def put(f: Findings, value: Any) -> None:
        f[item] = bool(value)

    return put


def _either(item: str) -> Callable[[Findings, Any], None]:
    """Two dataset entities that are one item (e.g. prior DVT, prior PE): present if either
    is; absent only when both are given as absent (``_finish`` resolves that)."""

    def put(f: Findings, value: Any) -> None:
        f.setdefault(("either", item), []).append(bool(value))

    return put


def _choice(options: Mapping[str, str | None], group: tuple[str, ...]) -> Callable[..., None]:
    """A one-choice entity (surgery type, mobility): the chosen item present, the rest absent."""

    def put(f: Findings, value: Any) -> None:
        chosen = options[value]
        for item in group:
            f[item] = item == chosen

    return put


def _caprini_sex(f: Findings, value: Any) -> None:
    if value == "Male":  # the women-only items do not apply; for women they stay unknown
        for item in ("hormones", "pregnancy_or_postpartum", "pregnancy_loss_history"):
            f[item] = False


SURGERY = (
    "minor_surgery",
    "arthroscopic_surgery",
    "major_open_surgery",
    "laparoscopic_surgery",
    "elective_lower_extremity_arthroplasty",
)
MOBILITY = ("bed_rest_medical", "confined_to_bed")

ENTITIES: Mapping[str, Mapping[str, Callable[[Findings, Any], None]]] = {
    "wells_pe": {
        "Heart Rate or Pulse": _measure("heart_rate"),
        "Clinical signs and symptoms of Deep Vein Thrombosis": _item("dvt_signs"),
        "Pulmonary Embolism is #1 diagnosis OR equally likely": _item("pe_most_likely"),
        "Immobilization for at least 3 days": _either("immobilisation_or_surgery"),
        "Surgery in the previous 4 weeks": _either("immobilisation_or_surgery"),
        "Previously Documented Pulmonary Embolism": _either("previous_dvt_or_pe"),
        "Previously documented Deep Vein Thrombosis": _either("previous_dvt_or_pe"),
        "Hemoptysis": _item("haemoptysis"),
        "Malignancy with treatment within 6 months or palliative": _item("malignancy"),
    },
    "wells_dvt": {
        "Active cancer": _item("active_cancer"),
        "Paralysis, paresis, or recent plaster immobilization of the lower extremity": _item(
            "paralysis_or_cast"
        ),
        "Bedridden recently >3 days": _either("bedridden_or_major_surgery"),
        "Major surgery within 12 weeks": _either("bedridden_or_major_surgery"),
        "Localized tenderness along the deep venous system": _item("localised_tenderness"),
        "Entire Leg Swollen": _item("entire_leg_swollen"),
        "Calf swelling >3 centimeters compared to the other leg": _item("calf_swelling"),
        "Pitting edema, confined to symptomatic leg": _item("pitting_oedema"),
        "Collateral (nonvaricose) superficial veins present": _item("collateral_veins"),
        "Previously documented Deep Vein Thrombosis": _item("previous_dvt"),
        "Alternative diagnosis to Deep Vein Thrombosis as likely or more likely": _item(
            "alternative_diagnosis"
        ),
    },
    "perc": {
        "age": _measure("age"),
        "Heart Rate or Pulse": _measure("heart_rate"),
        "O₂ saturation percentage": _measure("oxygen_saturation"),
        "Unilateral Leg Swelling": _item("unilateral_leg_swelling"),
        "Hemoptysis": _item("haemoptysis"),
        "Recent surgery or trauma": _item("recent_surgery_or_trauma"),
        "Previously Documented Pulmonary Embolism": _either("prior_dvt_or_pe"),
        "Previously documented Deep Vein Thrombosis": _either("prior_dvt_or_pe"),
        "Hormone use": _item("hormone_use"),
    },
    "caprini": {
        "age": _measure("age"),
        "sex": _caprini_sex,
        "Surgery Type": _choice(
            {
                "minor": "minor_surgery",
                "arthroscopic": "arthroscopic_surgery",
                "major": "major_open_surgery",
                "laparoscopic": "laparoscopic_surgery",
                "elective major lower extremity arthroplasty": (
                    "elective_lower_extremity_arthroplasty"
                ),
                "none": None,
            },
            SURGERY,
        ),
        "Mobility": _choice(
            {
                "normal": None,
                "on bed rest": "bed_rest_medical",
                "confined to bed >72 hours": "confined_to_bed",
            },
            MOBILITY,
        ),
        "Major Surgery in the last month": _item("major_surgery_past_month"),
        "Congestive Heart Failure in the last month": _item("chf_past_month"),
        "Sepsis in the last month": _item("sepsis_past_month"),
        "Pneumonia in the last month": _item("lung_disease_past_month"),
        "Immobilizing plaster cast in the last month": _item("plaster_cast_past_month"),
        "Hip, pelvis, or leg fracture in the last month": _item(
            "hip_pelvis_leg_fracture_past_month"
        ),
        "Stroke in the last month": _item("stroke_past_month"),
        "Multiple trauma in the last month": _item("multiple_trauma_past_month"),
        "Acute spinal cord injury causing paralysis in the last month": _item(
            "spinal_cord_injury_past_month"
        ),
        "Varicose veins": _item("varicose_veins"),
        "Current swollen legs": _item("swollen_legs"),
        "Current central venous access": _item("central_venous_access"),
        "Previously documented Deep Vein Thrombosis": _either("history_dvt_pe"),
        "Previously Documented Pulmonary Embolism": _either("history_dvt_pe"),
        "Family history of thrombosis": _item("family_history_thrombosis"),
        "Positive Factor V Leiden": _item("factor_v_leiden"),
        "Positive prothrombin 20210A": _item("prothrombin_20210a"),
        "Elevated serum homocysteine": _item("homocysteine"),
        "Positive lupus anticoagulant": _item("lupus_anticoagulant"),
        "Elevated anticardiolipin antibody": _item("anticardiolipin"),
        "Heparin-induced thrombocytopenia": _item("heparin_induced_thrombocytopenia"),
        "Other congenital or acquired thrombophilia": _item("other_thrombophilia"),
        "History of inflammatory bowel disease": _item("inflammatory_bowel_disease"),
        "Acute Myocardial infarction": _item("acute_mi"),
        "Chronic Obstructive Pulmonary Disease": _item("copd"),
        "Present or previous malignancy": _item("malignancy"),
    },
}


@dataclass(frozen=True)
class Row:
    number: int
    dataset_name: str
    calculator: str
    version: str | None
    entities: Mapping[str, Any]
    truth: float


@dataclass(frozen=True)
class Outcome:
    row: Row
    lower: float
    upper: float

    @property
    def agrees(self) -> bool:
        return self.lower == self.row.truth


def _rows() -> list[Row]:
    with CSV.open(newline="", encoding="utf-8") as fh:
        return [_row(r) for r in csv.DictReader(fh)]


def _row(r: Mapping[str, str]) -> Row:
    calc, version = CALCULATORS[r["calculator_name"]]
    entities = ast.literal_eval(r["relevant_entities"])
    return Row(
        int(r["row_number"]),
        r["calculator_name"],
        calc,
        version,
        entities,
        float(r["ground_truth_answer"]),
    )


def _finish(f: Findings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in f.items():
        if isinstance(key, tuple):
            _, item = key
            out[item] = True if any(value) else (False if len(value) == 2 else None)
        else:
            out[key] = value
    return out


def findings(row: Row) -> dict[str, Any]:
    """The row's entities as our findings; an entity the row does not give stays unknown."""
    mapping = ENTITIES[row.calculator]
    f: Findings = {}
    for name, value in row.entities.items():
        mapping[name](f, value)
    return _finish(f)


def outcome(row: Row) -> Outcome:
    res = get(row.calculator).score(findings(row), version=row.version)
    return Outcome(row, res.lower, res.upper)


def listed_disagreements() -> set[int]:
    """Row numbers listed in the disagreement file (table rows starting ``| <number> |``)."""
    text = DISAGREEMENTS.read_text(encoding="utf-8")
    return {int(m) for m in re.findall(r"^\|\s*(\d+)\s*\|", text, flags=re.MULTILINE)}


needs_data = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"the shared/ folder beside the repository ({SHARED}) is absent, so the "
    "MedCalc-Bench validation rows cannot be read",
)


@needs_data
def test_every_row_is_scored_and_every_entity_is_mapped() -> None:
    """Protects the cross-check itself: all 80 rows (20 per calculator) are read, and every
    entity name of every row has a mapping, so no clinical input is silently dropped."""
    rows = _rows()
    counts = {c: sum(r.calculator == c for r in rows) for c, _ in CALCULATORS.values()}
    assert counts == {"wells_pe": 20, "wells_dvt": 20, "perc": 20, "caprini": 20}
    for row in rows:
        missing = set(row.entities) - set(ENTITIES[row.calculator])
        assert not missing, f"row {row.number}: unmapped entities {missing}"


@needs_data
def test_disagreements_are_exactly_the_documented_rows() -> None:
    """Protects agreement with published cases: every row where our lower bound differs from
    the dataset's ground truth is listed with its reason in validation/medcalc_disagreements.md,
    and every listed row still disagrees (no silent skip, no stale entry)."""
    outcomes = [outcome(r) for r in _rows()]
    _print_agreement(outcomes)
    disagreeing = {o.row.number for o in outcomes if not o.agrees}
    assert disagreeing == listed_disagreements()


@needs_data
def test_the_published_agreement_figures_are_current() -> None:
    """Protects the honesty of validation/medcalc_disagreements.md: the x/20 figures at its
    top are the ones the cross-check computes."""
    outcomes = [outcome(r) for r in _rows()]
    computed = {
        calc: (
            sum(o.agrees for o in outcomes if o.row.calculator == calc),
            sum(o.row.calculator == calc for o in outcomes),
        )
        for calc, _ in CALCULATORS.values()
    }
    text = DISAGREEMENTS.read_text(encoding="utf-8")
    stated = {
        m[0]: (int(m[1]), int(m[2]))
        for m in re.findall(r"^\| `(\w+)`[^|]*\| (\d+)/(\d+) \|", text, re.M)
    }
    assert stated == computed


@needs_data
def test_ground_truth_lies_within_our_bounds() -> None:
    """Protects the meaning of the bounds: since the dataset scores unknowns as absent and
    every item it gives is known to us, its answer can never exceed our upper bound."""
    for o in (outcome(r) for r in _rows()):
        assert o.row.truth <= o.upper, f"row {o.row.number}"


def _print_agreement(outcomes: list[Outcome]) -> None:
    print("\nMedCalc-Bench-Verified agreement (lower bound == ground truth):")
    for calc, _ in CALCULATORS.values():
        mine = [o for o in outcomes if o.row.calculator == calc]
        agree = sum(o.agrees for o in mine)
        print(f"  {calc:10s} {agree}/{len(mine)}")
    for o in outcomes:
        if not o.agrees:
            print(
                f"  row {o.row.number} {o.row.calculator}: truth {o.row.truth:g}, "
                f"ours {o.lower:g}–{o.upper:g}"
            )
