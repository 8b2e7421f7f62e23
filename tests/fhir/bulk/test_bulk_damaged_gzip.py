"""``clotsafe bulk screen``: a gzip file that cannot be read to its end stops the screening.

A ``.ndjson.gz`` file cut short (a copy or a download interrupted), not gzip at all, or corrupt
(what it inflates to does not match its CRC-32) may hide any number of resources, a DVT among
them, so no patient is screened from it: the screening stops with ``bulk_input_damaged``
(exit 4), the message names the file and says what to do, and no ``summary.json`` is written
(an unfinished screening never looks finished). A malformed line is different: one resource,
reported with its file and line while the rest is screened (``test_bulk_lines.py``).

Protects (each failed before): a file cut short ended in click's bare "Aborted!"; a file that
is not gzip, or whose inflated text is garbled, in ``bulk_io_error`` and advice about a full
disk; and a file whose CRC-32 does not match was screened as if whole (DuckDB does not check
it, and the kept lines' fetch stopped after the last kept line, before the check). Spark stops
with the same error.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from test_bulk_screen_support import (
    ON,
    SNOMED,
    male_patient,
    needs_duckdb,
    needs_spark,
    recent_dvt,
    write_export,
)

from clotsafe.cli import main
from clotsafe.fhir.bulk import lines

pytestmark = needs_duckdb

#: essential hypertension: in no code list, its Conditions are not kept
HYPERTENSION = "59621000"
PATIENTS = [f"p{n}" for n in range(1, 41)]
NAME = "Condition.1.ndjson.gz"


def _export(directory: Path) -> Path:
    """40 patients, every one with a recent DVT, the files gzipped; after the DVTs, 200
    Conditions the screening does not read (so the kept lines' fetch ends well before the end
    of the file)."""
    conditions = [recent_dvt(f"c{n}", p) for n, p in enumerate(PATIENTS)]
    conditions += [{"resourceType": "Condition", "id": f"h{n}",
                    "code": {"coding": [{"system": SNOMED, "code": HYPERTENSION}]},
                    "subject": {"reference": f"Patient/{PATIENTS[n % 40]}"}}
                   for n in range(200)]  # fmt: skip
    return write_export(directory, [*map(male_patient, PATIENTS), *conditions], gz=True)


def _damage(directory: Path, how: str) -> None:
    path = directory / NAME
    data = bytearray(path.read_bytes())
    if how == "cut short":
        data = data[: len(data) // 2]
    elif how == "not gzip":
        data = bytearray(gzip.decompress(bytes(data)))
    elif how == "check sum":
        data[-8] ^= 0xFF  # the CRC-32 of the trailer: every byte inflates, the check fails
    else:  # a flipped byte inside the deflate stream: what it inflates to is garbled
        data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))


def _screen(directory: Path, out: Path, *extra: str) -> Any:
    return CliRunner().invoke(main, ["bulk", "screen", str(directory), "--on", ON, "--out",
                                     str(out), "--progress", "none", *extra])  # fmt: skip


def test_the_undamaged_export_is_screened(tmp_path: Path) -> None:
    """The export the other tests damage: every patient screened, each with their DVT."""
    result = _screen(_export(tmp_path / "export"), tmp_path / "out")
    assert result.exit_code == 0, result.output
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["patients"] == len(PATIENTS)
    assert summary["input"]["kept"]["Condition"] == len(PATIENTS)


WORDS = {
    "cut short": "is cut short",
    "not gzip": "is not a gzip file",
    "check sum": "is damaged",
    "garbled": "is damaged",
}


@pytest.mark.parametrize("how", list(WORDS))
def test_a_damaged_gzip_file_stops_the_screening_and_names_the_file(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inflated 1 KB at a time, as a file of many MB is 8 MB at a time: the kept lines' fetch
    reaches its last kept line long before the end of the file, where the CRC-32 is."""
    monkeypatch.setattr(lines, "CHUNK", 1024)
    directory = _export(tmp_path / "export")
    _damage(directory, how)
    result = _screen(directory, tmp_path / "out")
    text = result.output + result.stderr
    assert result.exit_code == 4, text
    assert "[bulk_input_damaged]" in text
    assert f"{NAME} {WORDS[how]}" in text
    assert "Download it again" in text
    assert "Aborted" not in text and "Traceback" not in text and "disk" not in text
    assert not (tmp_path / "out" / "summary.json").exists()


@needs_spark
@pytest.mark.parametrize("how", list(WORDS))
def test_spark_stops_with_the_error_duckdb_gives(how: str, tmp_path: Path) -> None:
    """Spark's Java reader finds the same damage (its CRC check included): the same words."""
    directory = _export(tmp_path / "export")
    _damage(directory, how)
    duck = _screen(directory, tmp_path / "duckdb")
    spark = _screen(directory, tmp_path / "spark", "--engine", "spark")
    assert spark.exit_code == duck.exit_code == 4, spark.output + spark.stderr
    assert spark.stderr == duck.stderr
    assert f"{NAME} {WORDS[how]}" in spark.stderr
    assert not (tmp_path / "spark" / "summary.json").exists()


class _Java:
    """A Java exception as py4j shows it: its class, message and cause."""

    def __init__(self, cls: str, message: str | None, cause: _Java | None = None) -> None:
        self.cls, self.message, self.cause = cls, message, cause

    def getClass(self) -> Any:  # py4j gives Java's method names
        return type("C", (), {"getName": lambda _self: self.cls})()

    def getMessage(self) -> str | None:
        return self.message

    def getCause(self) -> _Java | None:
        return self.cause


def _failed_read(path: Path, cause: _Java) -> Any:
    spark = "org.apache.spark.SparkException"
    read = _Java(spark, f"[FAILED_READ_FILE.NO_HINT] Encountered error while reading file "
                        f"{path.as_uri()}.  SQLSTATE: KD001", cause)  # fmt: skip
    return type("Py4JJavaError", (), {"java_exception": _Java(spark, "[STAGE] 2 failures", read)})


@needs_spark
def test_what_spark_says_of_a_file_it_could_not_read(tmp_path: Path) -> None:
    """Spark's read failures in clotsafe's words: a gzip file's damage, by Hadoop's exception,
    is bulk_input_damaged; any other read failure bulk_io_error; anything else is not ours."""
    from clotsafe.fhir.bulk.screen_spark import read_failure
    from clotsafe.fhir.bulk.source import export_files

    files = export_files(_export(tmp_path / "export"))
    gz = tmp_path / "export" / NAME
    cases = {
        ("java.io.EOFException", "Unexpected end of input stream"): "is cut short",
        ("java.io.IOException", "not a gzip file"): "is not a gzip file",
        ("java.io.IOException", "gzip stream CRC failure"): "is damaged: what it inflates to",
        ("java.util.zip.ZipException", "invalid block type"): "is damaged: its gzip data cannot",
    }
    for (cls, message), words in cases.items():
        error = read_failure(_failed_read(gz, _Java(cls, message)), files)
        assert error is not None and error.code == "bulk_input_damaged"
        assert error.message.startswith(f"{NAME} {words}")
    gone = _Java("java.io.FileNotFoundException", "File /x/Patient.1.ndjson.gz does not exist")
    error = read_failure(_failed_read(tmp_path / "export" / "Patient.1.ndjson.gz", gone), files)
    assert error is not None and error.code == "bulk_io_error"
    assert error.message == "Patient.1.ndjson.gz could not be read (File /x/Patient.1.ndjson.gz " \
                            "does not exist)"  # fmt: skip
    other = type("E", (), {"java_exception": _Java("java.lang.OutOfMemoryError", "heap")})
    assert read_failure(other, files) is None
