"""docs/calculators.md documents every stable id the calculators expose."""

from __future__ import annotations

from pathlib import Path

import pytest

from clotsafe.calculators import builtin_calculators, caprini_intake, errors
from clotsafe.calculators.engine import PointsCalculator

DOC = (Path(__file__).resolve().parents[2] / "docs/calculators.md").read_text(encoding="utf-8")


def ticked(name: str) -> bool:
    return f"`{name}`" in DOC


@pytest.mark.parametrize("name", sorted(builtin_calculators()))
def test_every_id_of_every_calculator_is_documented(name: str) -> None:
    """Protects stable public ids: each calculator, version, band scheme, band id, item id
    and measurement has its entry in docs/calculators.md."""
    calc = builtin_calculators()[name]
    assert isinstance(calc, PointsCalculator)
    assert ticked(name)
    ids = [*calc.versions, *calc.band_schemes, *calc.measurements]
    ids += [b.id for s in calc.schemes.values() for b in s.bands]
    ids += [i.id for v in calc.versions for i in calc.items(v)]
    missing = [i for i in ids if not ticked(i)]
    assert not missing


def test_the_intake_mapping_is_documented() -> None:
    """Protects the intake mapping table: every intake question read, every marker name and
    every not-assessed item appears in docs/calculators.md."""
    qids = [q for _, q in caprini_intake.DIRECT] + [m for _, m in caprini_intake.MARKERS]
    qids += [
        "age",
        "bmi",
        "height_cm",
        "weight_kg",
        "surgery_recent",
        "surgery_on",
        "surgery_kind",
        "leg_injury",
        "leg_injury_on",
        "leg_injury_ongoing",
        "cancer_active",
        "cancer_past",
        "clots",
        "clot_ever",
        "thrombophilia",
        "thrombophilia_markers",
        "hormones",
        "pregnant",
        "gave_birth",
        "birth_on",
        "pregnancy_loss_history",
        "sex",
    ]
    missing = [q for q in [*qids, *caprini_intake.NOT_ASSESSED] if not ticked(q)]
    assert not missing


def test_every_error_class_is_documented() -> None:
    """Protects the error contract: each calculator error class has a row in the docs."""
    names = [n for n in dir(errors) if n.startswith(("Unknown", "Invalid"))]
    assert names and all(ticked(n) for n in names)
