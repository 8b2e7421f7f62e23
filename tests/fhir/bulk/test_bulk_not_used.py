"""``clotsafe bulk screen``: what a patient's record holds but the reader could not use is told.

The CDS card lists it under "Not used from the record" and ``screen --fhir`` on standard error:
a platelet count in a unit the reader does not know, a medicine naming a Medication that is
not in the export. ``bulk screen`` writes it in the patient's ``decisions.ndjson`` line
(``not_used``, beside ``decision`` and ``sources``; only when there is something) and counts the
patients per kind in ``summary.json`` (``not_used``). The decision stays byte-identical to
``screen --fhir``'s.

Protects (failed before): the line and the summary said nothing of it.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from test_bulk_screen_support import (
    assert_same_as_screen_fhir,
    bulk_screen,
    decisions,
    male_patient,
    needs_duckdb,
    write_export,
)

pytestmark = needs_duckdb


def test_what_the_reader_could_not_use_is_in_the_line_and_the_summary(tmp_path: Path) -> None:
    platelets = {"resourceType": "Observation", "id": "o1", "status": "final",
                 "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
                 "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-11-20",
                 "valueQuantity": {"value": 50, "unit": "bananas"}}  # fmt: skip
    named = {"resourceType": "MedicationRequest", "id": "m1", "status": "active",
             "intent": "order", "medicationReference": {"reference": "Medication/gone"},
             "subject": {"reference": "Patient/p2"}, "authoredOn": "2026-11-01"}  # fmt: skip
    patients = [male_patient(p) for p in ("p1", "p2", "p3")]
    directory = write_export(tmp_path / "export", [*patients, platelets, named])
    bulk_screen(directory, tmp_path / "out")
    lines = {d["patient"]: d for d in decisions(tmp_path / "out")}
    assert lines["Patient/p1"]["not_used"] == [{
        "field": "Observation.1.ndjson:1.valueQuantity.code", "code": "unknown_unit",
        "message": "unit not understood for platelets: the value is not used",
        "got": "bananas"}]  # fmt: skip
    assert [w["code"] for w in lines["Patient/p2"]["not_used"]] == ["unresolved_reference"]
    assert "not_used" not in lines["Patient/p3"]
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["not_used"] == {"unknown_unit": 1, "unresolved_reference": 1}
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == 3
