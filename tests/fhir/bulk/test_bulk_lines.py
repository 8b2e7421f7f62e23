"""``clotsafe bulk screen`` on DuckDB: what a line of an NDJSON file is.

A line is the bytes between two ``\\n`` (numbered from 1); a ``\\r`` just before the ``\\n`` is
not part of it (CRLF files) and a UTF-8 byte-order mark at the start of a file is not part of
line 1.

Protects: a ``\\r`` inside a record (JSON whitespace) is screened like any other record; a
``\\n``-line holding two records split by a lone ``\\r``, or a line that is not UTF-8, is one
malformed line reported with its file and physical line while the rest is screened (these three
ended in a traceback: DuckDB's CSV reader refused the line); a CRLF file and a file starting
with a BOM give the outputs of the plain file; with CRLF and a blank CRLF line, line numbers
stay physical. Every patient's decision is the one ``screen --fhir`` gives on their Bundle.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from test_bulk_screen_support import (
    ON,
    assert_same_as_screen_fhir,
    bulk_screen,
    decisions,
    write_export,
)

from clotsafe.cli import main

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None,
    reason="bulk screen needs the bulk extra (pip install -e '.[bulk]')",
)

SNOMED = "http://snomed.info/sct"
#: deep vein thrombosis (SNOMED CT), in the code lists: its Condition is kept
DVT = "128053003"
PATIENTS = ("p1", "p2", "p3", "p4")
OUTPUTS = ("decisions.ndjson", "worklist.csv", "risk-assessments.ndjson")


def _condition(rid: str, pid: str, onset: str) -> dict[str, Any]:
    clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    return {"resourceType": "Condition", "id": rid,
            "clinicalStatus": {"coding": [{"system": clinical, "code": "active"}]},
            "code": {"coding": [{"system": SNOMED, "code": DVT}], "text": "DVT"},
            "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": onset}  # fmt: skip


def _export(directory: Path) -> Path:
    """Four patients; Condition.1.ndjson holds a DVT of each (c1..c4, lines 1-4; c3 an old one)."""
    patients = [{"resourceType": "Patient", "id": pid, "gender": "female",
                 "birthDate": f"19{60 + n}-05-01"} for n, pid in enumerate(PATIENTS)]  # fmt: skip
    onsets = ("2026-11-05", "2026-10-01", "2025-01-10", "2026-11-20")
    pairs = zip(PATIENTS, onsets, strict=True)
    conditions = [_condition(f"c{n}", pid, onset) for n, (pid, onset) in enumerate(pairs, 1)]
    write_export(directory, [*patients, *conditions])
    return directory


def _rewrite(path: Path, change: Callable[[list[bytes]], list[bytes]]) -> None:
    """The file's '\\n'-lines (without the last, empty one) changed, written back with '\\n'."""
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    path.write_bytes(b"".join(line + b"\n" for line in change(lines[:-1])))


def _replace_in_line_2(directory: Path, old: bytes, new: bytes) -> None:
    """Condition.1.ndjson's line 2 (c2, of p2) with its first ``old`` replaced by ``new``."""

    def change(lines: list[bytes]) -> list[bytes]:
        assert old in lines[1]
        return [lines[0], lines[1].replace(old, new, 1), *lines[2:]]

    _rewrite(directory / "Condition.1.ndjson", change)


def _summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = orjson.loads((out / "summary.json").read_bytes())
    return summary


def _malformed(out: Path) -> list[tuple[str, int]]:
    return [(m["file"], m["line"]) for m in _summary(out)["input"]["malformed"]]


def _clots(out: Path) -> dict[str, list[str]]:
    return {d["patient"]: d["sources"].get("clots", []) for d in decisions(out)}


def test_a_carriage_return_inside_a_record_is_json_whitespace(tmp_path: Path) -> None:
    """A Condition with a '\\r' between two members is screened like any other record."""
    directory = _export(tmp_path / "export")
    _replace_in_line_2(directory, b",", b",\r")
    assert b'"Condition",\r"id":"c2"' in (directory / "Condition.1.ndjson").read_bytes()
    result = bulk_screen(directory, tmp_path / "out")
    assert "Traceback" not in result.output + result.stderr
    assert _malformed(tmp_path / "out") == []
    assert _clots(tmp_path / "out")["Patient/p2"] == ["Condition/c2"]
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == len(PATIENTS)


def test_two_records_split_by_a_lone_carriage_return_are_one_malformed_line(
    tmp_path: Path,
) -> None:
    """'{...}\\r{...}\\n' is one line, not JSON: named by file and line, the rest screened."""
    directory = _export(tmp_path / "export")
    _rewrite(directory / "Condition.1.ndjson", lambda ls: [ls[0], ls[1] + b"\r" + ls[2], ls[3]])
    result = bulk_screen(directory, tmp_path / "out")
    assert "Traceback" not in result.output + result.stderr
    assert _malformed(tmp_path / "out") == [("Condition.1.ndjson", 2)]
    assert _summary(tmp_path / "out")["patients"] == len(PATIENTS)
    clots = _clots(tmp_path / "out")
    assert clots["Patient/p2"] == clots["Patient/p3"] == []
    assert clots["Patient/p4"] == ["Condition/c4"]
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == len(PATIENTS)


def test_a_line_that_is_not_utf8_is_one_malformed_line(tmp_path: Path) -> None:
    """A byte 0xff inside a string: the line is named by file and line, the rest screened."""
    directory = _export(tmp_path / "export")
    _replace_in_line_2(directory, b"DVT", b"DV\xffT")
    assert b"\xff" in (directory / "Condition.1.ndjson").read_bytes()
    result = bulk_screen(directory, tmp_path / "out")
    assert "Traceback" not in result.output + result.stderr
    assert _malformed(tmp_path / "out") == [("Condition.1.ndjson", 2)]
    assert _summary(tmp_path / "out")["patients"] == len(PATIENTS)
    clots = _clots(tmp_path / "out")
    assert clots["Patient/p2"] == [] and clots["Patient/p3"] == ["Condition/c3"]
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == len(PATIENTS)


def test_crlf_files_give_the_outputs_of_lf_files(tmp_path: Path) -> None:
    """Every line ending "\\r\\n" (Windows): the same decisions and worklist as "\\n"."""
    plain = _export(tmp_path / "plain")
    crlf = _export(tmp_path / "crlf")
    for name in ("Patient.1.ndjson", "Condition.1.ndjson"):
        _rewrite(crlf / name, lambda ls: [line + b"\r" for line in ls])
    assert b"}\r\n{" in (crlf / "Condition.1.ndjson").read_bytes()
    bulk_screen(plain, tmp_path / "o1")
    bulk_screen(crlf, tmp_path / "o2")
    assert _malformed(tmp_path / "o2") == []
    for name in OUTPUTS:
        assert (tmp_path / "o1" / name).read_bytes() == (tmp_path / "o2" / name).read_bytes()
    assert assert_same_as_screen_fhir(plain, tmp_path / "o1") == len(PATIENTS)


@pytest.mark.parametrize("name", ["Patient.1.ndjson", "Condition.1.ndjson"])
def test_a_file_starting_with_a_byte_order_mark_gives_the_outputs_without_it(
    tmp_path: Path, name: str
) -> None:
    """A UTF-8 BOM at the start of a file is not part of line 1: the same outputs as without."""
    plain = _export(tmp_path / "plain")
    bom = _export(tmp_path / "bom")
    path = bom / name
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    bulk_screen(plain, tmp_path / "o1")
    bulk_screen(bom, tmp_path / "o2")
    assert _malformed(tmp_path / "o2") == []
    for output in OUTPUTS:
        assert (tmp_path / "o1" / output).read_bytes() == (tmp_path / "o2" / output).read_bytes()
    assert _clots(tmp_path / "o2")["Patient/p1"] == ["Condition/c1"]


def test_crlf_line_numbers_stay_physical_after_a_blank_crlf_line(tmp_path: Path) -> None:
    """A blank "\\r\\n" line, then a truncated line: named by its physical line number (4)."""
    directory = _export(tmp_path / "export")
    for name in ("Patient.1.ndjson", "Condition.1.ndjson"):
        _rewrite(directory / name, lambda ls: [line + b"\r" for line in ls])
    _rewrite(directory / "Condition.1.ndjson",
             lambda ls: [ls[0], b"\r", ls[1], ls[2][:30] + b"\r", ls[3]])  # fmt: skip
    result = bulk_screen(directory, tmp_path / "out")
    assert "Traceback" not in result.output + result.stderr
    assert _malformed(tmp_path / "out") == [("Condition.1.ndjson", 4)]
    clots = _clots(tmp_path / "out")
    assert clots["Patient/p3"] == [] and clots["Patient/p2"] == ["Condition/c2"]
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == len(PATIENTS)


def test_a_record_longer_than_4_mib_is_screened(tmp_path: Path) -> None:
    """A 5 MiB note in a Condition (past the schema-read plan's 4 MiB) is read by the general
    plan, not refused (its CSV reader stopped the screening at 4 MiB)."""
    directory = _export(tmp_path / "export")
    _replace_in_line_2(directory, b'"text":"DVT"', b'"text":"' + b"x" * (5 << 20) + b'"')
    result = bulk_screen(directory, tmp_path / "out")
    assert "Traceback" not in result.output + result.stderr
    assert _malformed(tmp_path / "out") == []
    assert _clots(tmp_path / "out")["Patient/p2"] == ["Condition/c2"]
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == len(PATIENTS)


def test_a_key_named_twice_in_a_record_is_refused_not_guessed(tmp_path: Path) -> None:
    """POLICY 1.1 §8.1: c2 says clinicalStatus "active" and then "resolved". The last one won
    (p2's DVT silently ignored); now p2 is not screened and the error names the file, line and
    key, as ``screen --fhir`` refuses the same Bundle. The other patients are screened."""
    directory = _export(tmp_path / "export")
    clinical = b"http://terminology.hl7.org/CodeSystem/condition-clinical"
    resolved = b'"clinicalStatus":{"coding":[{"system":"' + clinical + b'","code":"resolved"}]}'
    _replace_in_line_2(directory, b'"code":"active"}]}', b'"code":"active"}]},' + resolved)
    bulk_screen(directory, tmp_path / "out")
    by_patient = {d["patient"]: d for d in decisions(tmp_path / "out")}
    errors = by_patient["Patient/p2"]["error"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("Condition.1.ndjson:2.clinicalStatus", "duplicate_key")
    ]
    assert "decision" not in by_patient["Patient/p2"]
    assert all("decision" in by_patient[f"Patient/{p}"] for p in PATIENTS if p != "p2")
    worklist = (tmp_path / "out" / "worklist.csv").read_text()
    assert "not screened" in worklist
    patient = (directory / "Patient.1.ndjson").read_bytes().split(b"\n")[1]
    condition = (directory / "Condition.1.ndjson").read_bytes().split(b"\n")[1]
    bundle = (b'{"resourceType":"Bundle","type":"collection","entry":[{"resource":' + patient
              + b'},{"resource":' + condition + b"}]}")  # fmt: skip
    refused = CliRunner().invoke(main, ["screen", "--fhir", "-", "--on", ON, "--format", "json"],
                                 input=bundle)  # fmt: skip
    assert refused.exit_code != 0 and "duplicate_key" in refused.output


def test_a_date_beyond_any_calendar_leaves_the_date_unread_not_the_screening_stopped(
    tmp_path: Path,
) -> None:
    """c2's onset "9999999999" (a year of ten digits): the whole screening stopped with an
    OverflowError traceback. Now that onset is not read as a date, every patient is screened,
    and each decision is the one ``screen --fhir`` gives on their Bundle."""
    directory = _export(tmp_path / "export")
    _replace_in_line_2(directory, b'"onsetDateTime":"2026-10-01"', b'"onsetDateTime":"9999999999"')
    bulk_screen(directory, tmp_path / "out")
    assert all("decision" in d for d in decisions(tmp_path / "out"))
    assert_same_as_screen_fhir(directory, tmp_path / "out")
