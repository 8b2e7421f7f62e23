"""``clotsafe bulk screen``: which files of DIR are read, by their names.

``bulk export`` names its files ``<Type>.<n>.ndjson[.gz]``; other tools name them
``<Type>.ndjson`` (Synthea, many servers' examples) or ``<n>.<Type>.ndjson`` (the SMART
bulk-data-client). All three are read. A file that looks like NDJSON but whose name gives no
resource type (``output.ndjson``, ``condition.1.ndjson``, ``Condition.1.jsonl``,
``Condition.1.ndjson.bz2``) stops the screening, named, before any patient is screened: read
without its resources, a patient could look safe. ``.part`` files (incomplete downloads),
``error/``, ``deleted/`` and the types the screening does not read are left alone.

Protects (failed before): a ``Condition.ndjson`` or ``1.Condition.ndjson`` beside
``Patient.1.ndjson`` was silently not read, and each patient's DVT silently missing from the
screening; an unknown file was silently skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from test_bulk_screen_support import (
    ON,
    assert_same_as_screen_fhir,
    male_patient,
    needs_duckdb,
    recent_dvt,
    write_export,
)

from clotsafe.cli import main

pytestmark = needs_duckdb

PATIENTS = ("p1", "p2")


def _export(directory: Path, condition_name: str) -> Path:
    """Two patients, each with a recent DVT; the Conditions' file renamed ``condition_name``."""
    conditions = [recent_dvt(f"c{n}", p) for n, p in enumerate(PATIENTS)]
    write_export(directory, [*map(male_patient, PATIENTS), *conditions])
    (directory / "Condition.1.ndjson").rename(directory / condition_name)
    return directory


def _screen(directory: Path, out: Path) -> Any:
    return CliRunner().invoke(main, ["bulk", "screen", str(directory), "--on", ON, "--out",
                                     str(out), "--progress", "none"])  # fmt: skip


def _clots(out: Path) -> dict[str, list[str]]:
    lines = (out / "decisions.ndjson").read_bytes().splitlines()
    return {d["patient"]: d["sources"].get("clots", []) for d in map(orjson.loads, lines)}


@pytest.mark.parametrize("name", ["Condition.1.ndjson", "Condition.ndjson", "1.Condition.ndjson",
                                  "Condition.000.ndjson"])  # fmt: skip
def test_each_naming_of_the_files_is_read(name: str, tmp_path: Path) -> None:
    directory = _export(tmp_path / "export", name)
    result = _screen(directory, tmp_path / "out")
    assert result.exit_code == 0, result.output + result.stderr
    assert _clots(tmp_path / "out") == {"Patient/p1": ["Condition/c0"],
                                        "Patient/p2": ["Condition/c1"]}  # fmt: skip
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["input"]["files"] == [name, "Patient.1.ndjson"]
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == len(PATIENTS)


@pytest.mark.parametrize("name", ["output.ndjson", "condition.1.ndjson", "Condition.1.jsonl",
                                  "Condition.1.ndjson.bz2", "Condition-1.ndjson.gz"])  # fmt: skip
def test_a_file_whose_name_gives_no_type_stops_the_screening(name: str, tmp_path: Path) -> None:
    directory = _export(tmp_path / "export", name)
    result = _screen(directory, tmp_path / "out")
    text = result.output + result.stderr
    assert result.exit_code == 1, text
    assert "[bulk_bad_option]" in text and name in text
    assert "Condition.1.ndjson" in text  # the name to give it
    assert "Traceback" not in text
    assert not (tmp_path / "out" / "summary.json").exists()


def test_part_files_and_unread_types_are_left_alone(tmp_path: Path) -> None:
    """An incomplete download, an error file and a type the screening does not read: the DVTs
    (in Condition.1.ndjson) are found and nothing else is read."""
    directory = _export(tmp_path / "export", "Condition.1.ndjson")
    (directory / "Condition.2.ndjson.part").write_bytes(b'{"resourceType": "Condi')
    (directory / "error").mkdir()
    (directory / "error" / "OperationOutcome.1.ndjson").write_bytes(b"{}\n")
    (directory / "AllergyIntolerance.1.ndjson").write_bytes(b"{}\n")
    result = _screen(directory, tmp_path / "out")
    assert result.exit_code == 0, result.output + result.stderr
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["input"]["files"] == ["Condition.1.ndjson", "Patient.1.ndjson"]
    assert _clots(tmp_path / "out")["Patient/p2"] == ["Condition/c1"]


def test_the_export_directory_is_not_an_output_directory(tmp_path: Path) -> None:
    """--out DIR would put decisions.ndjson among the export's files (and the next screening
    would stop on it): refused, nothing written. Before, it was written there."""
    directory = _export(tmp_path / "export", "Condition.1.ndjson")
    before = sorted(p.name for p in directory.iterdir())
    result = _screen(directory, directory)
    assert result.exit_code == 1
    assert "[bulk_bad_option]" in result.stderr and "--out" in result.stderr
    assert sorted(p.name for p in directory.iterdir()) == before
