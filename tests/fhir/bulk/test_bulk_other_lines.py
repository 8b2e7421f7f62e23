"""``clotsafe bulk screen``: a line that is JSON but not a resource of its file's type is
reported with its file and line, never silently dropped.

A Bulk Data file holds one resource type. A line of another type (a DVT Condition in the
Observations' file), one without ``resourceType`` (``{"id": ...}``, ``null``, ``[1, 2]``, ``5``)
and a Patient without an id cannot be screened where they are; like a malformed line, each is
named in ``summary.json``'s ``input.malformed`` (and on standard error) and the rest is screened.
Both DuckDB plans (the schema-read plan stays in use: such a line does not send its type the
general way) and Spark say the same.

Protects (failed before): every one of these lines was dropped without a word (the SQL on FHIR
views keep only their own ``resourceType``), and a Patient without an id was left out of the
count of patients screened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from test_bulk_screen_support import (
    DVT,
    SNOMED,
    bulk_screen,
    male_patient,
    needs_duckdb,
    needs_spark,
    recent_dvt,
)

from clotsafe.fhir.bulk.screen_duckdb import DuckDbEngine
from clotsafe.fhir.bulk.source import export_files

pytestmark = needs_duckdb

OTHER = "a resource of type {found} in a file of {kind} resources: the line is skipped"
NONE = "not a FHIR resource (no resourceType): the line is skipped"
NO_ID = "a Patient without an id: it is not screened (no resource can name it)"


def _write(directory: Path, files: dict[str, list[Any]]) -> Path:
    directory.mkdir(parents=True)
    for name, lines in files.items():
        text = b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines)
        (directory / name).write_bytes(text)
    (directory / "manifest.json").write_bytes(
        orjson.dumps({"transactionTime": "2026-11-25T06:00:00Z", "request": "x", "output": []})
    )
    return directory


def _export(directory: Path, *, values: bool = False, blank_first: bool = False,
            broken: bool = False) -> Path:  # fmt: skip
    """p1 with a DVT in the Conditions' file; p2's DVT in the Observations' file; an Observation
    (with the DVT code) in the Conditions' file; lines that are no resource (``{"id": "x"}``,
    ``null``); a Patient without an id. The schema-read plan reads these; the Conditions go the
    general way with ``values`` (``[1, 2]`` and ``5`` too, which it refuses), ``blank_first``
    (a blank first line: after the schema-read plan) or ``broken`` (a line that is not
    JSON)."""
    observation = {"resourceType": "Observation", "id": "o1", "status": "final",
                   "code": {"coding": [{"system": SNOMED, "code": DVT}]},
                   "subject": {"reference": "Patient/p2"}}  # fmt: skip
    conditions: list[Any] = [b""] if blank_first else []
    conditions += [recent_dvt("c1", "p1"), observation, {"id": "x"}, b"null"]
    conditions += [b"[1, 2]", b"5"] if values else []
    conditions += [b'{"resourceType": "Cond'] if broken else []
    return _write(directory, {
        "Patient.1.ndjson": [male_patient("p1"), male_patient(None), male_patient("p2")],
        "Condition.1.ndjson": conditions,
        "Observation.1.ndjson": [recent_dvt("c2", "p2")],
    })  # fmt: skip


def _expected(*, values: bool = False, blank_first: bool = False, broken: bool = False
              ) -> list[dict[str, Any]]:  # fmt: skip
    n = 1 if blank_first else 0
    nones = (3, 4, 5, 6) if values else (3, 4)
    rows = [("Condition.1.ndjson", 2 + n, OTHER.format(found="Observation", kind="Condition"))]
    rows += [("Condition.1.ndjson", line + n, NONE) for line in nones]
    last = nones[-1] + 1 + n
    rows += [("Condition.1.ndjson", last, "not JSON: the line is skipped")] if broken else []
    rows += [("Observation.1.ndjson", 1, OTHER.format(found="Condition", kind="Observation"))]
    rows += [("Patient.1.ndjson", 2, NO_ID)]
    return [{"file": f, "line": n, "message": m} for f, n, m in rows]


def _summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = orjson.loads((out / "summary.json").read_bytes())
    return summary


@pytest.mark.parametrize(
    "shape",
    [{}, {"values": True}, {"blank_first": True}, {"broken": True}],
    ids=["schema-read", "values", "blank-first", "not-json"],
)
def test_lines_that_are_no_resource_of_their_file_are_reported(
    shape: dict[str, bool], tmp_path: Path
) -> None:
    directory = _export(tmp_path / "export", **shape)
    result = bulk_screen(directory, tmp_path / "out")
    summary = _summary(tmp_path / "out")
    assert summary["input"]["malformed"] == _expected(**shape)
    assert summary["patients"] == 2
    decisions = [orjson.loads(x) for x in (tmp_path / "out" / "decisions.ndjson").read_bytes()
                 .splitlines()]  # fmt: skip
    # the Observation holding the DVT code is not read as a Condition: p2 has no clot
    assert {d["patient"]: d["sources"].get("clots") for d in decisions} == {
        "Patient/p1": ["Condition/c1"], "Patient/p2": None}  # fmt: skip
    first = _expected(**shape)[0]
    assert f"{first['file']} line {first['line']}: {first['message']}" in result.stderr


def test_such_lines_leave_the_schema_read_plan_in_use(tmp_path: Path) -> None:
    directory = _export(tmp_path / "export")
    engine = DuckDbEngine(export_files(directory), temp_directory=tmp_path / "duck")
    try:
        report = engine.prepare()
        assert {"Condition", "Observation", "Patient"} <= engine.texts
    finally:
        engine.close()
    assert report.malformed == _expected()


@needs_spark
def test_spark_reports_the_same_lines(tmp_path: Path) -> None:
    directory = _export(tmp_path / "export", values=True, broken=True)
    bulk_screen(directory, tmp_path / "duckdb")
    bulk_screen(directory, tmp_path / "spark", "--engine", "spark")
    duck, spark = _summary(tmp_path / "duckdb"), _summary(tmp_path / "spark")
    assert (
        spark["input"]["malformed"]
        == duck["input"]["malformed"]
        == _expected(values=True, broken=True)
    )
    assert spark["patients"] == duck["patients"] == 2
    for name in ("decisions.ndjson", "worklist.csv"):
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "duckdb" / name).read_bytes()
