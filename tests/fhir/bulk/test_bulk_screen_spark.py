"""``clotsafe bulk screen --engine spark`` (local[2]) writes exactly what DuckDB writes.

Protects: the same compiled views, joins and Python stage on Spark's executors give
byte-identical decisions, worklist and RiskAssessments for a 1,000-patient generated export with
gzip files and a malformed line (named with the same file and line). Skipped, with the reason,
without Java or the bulk extra (PySpark, pyarrow, pandas).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_bulk_screen_support import ON, bulk_screen, generator, male_patient, write_export

MISSING = [
    m for m in ("duckdb", "pyspark", "pyarrow", "pandas") if importlib.util.find_spec(m) is None
]
pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=f"needs the bulk extra: {', '.join(MISSING)} missing"),
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17 (no java found)"),
]
OUTPUTS = ("decisions.ndjson", "worklist.csv", "risk-assessments.ndjson", "levels.html")


def same_outputs(directory: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """Screen with DuckDB, then Spark: the same files, byte for byte; both summaries."""
    bulk_screen(directory, tmp_path / "duckdb")
    bulk_screen(directory, tmp_path / "spark", "--engine", "spark")
    for name in OUTPUTS:
        duck = (tmp_path / "duckdb" / name).read_bytes()
        assert duck == (tmp_path / "spark" / name).read_bytes(), name
    return [orjson.loads((tmp_path / e / "summary.json").read_bytes()) for e in ("duckdb", "spark")]


def test_spark_and_duckdb_write_identical_outputs_for_1000_patients(tmp_path: Path) -> None:
    """1,000 generated patients (plus a gzip part and a cut line): Spark = DuckDB, file by file."""
    directory = tmp_path / "export"
    generator().generate(directory, 1000, seed=1000, part_lines=40_000)
    extra = tmp_path / "extra"
    generator().generate(extra, 30, seed=99, gz=True)
    (extra / "Condition.1.ndjson.gz").rename(directory / "Condition.9.ndjson.gz")
    path = directory / "Observation.1.ndjson"
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3][:30]
    path.write_bytes(b"\n".join(lines))
    summaries = same_outputs(directory, tmp_path)
    for key in ("patients", "levels", "shown_as", "rules", "unknowns"):
        assert summaries[0][key] == summaries[1][key], key
    assert summaries[0]["patients"] == 1000
    assert (
        summaries[0]["input"]["malformed"]
        == summaries[1]["input"]["malformed"]
        == [{"file": "Observation.1.ndjson", "line": 4, "message": "not JSON: the line is skipped"}]
    )
    assert summaries[0]["input"]["kept"] == summaries[1]["input"]["kept"]


def test_spark_reads_lines_as_duckdb_does(tmp_path: Path) -> None:
    """CRLF endings, a blank CRLF line and one holding a tab, a CR inside a record (JSON
    whitespace), two records split by a lone CR, a line that is not UTF-8 and a byte-order
    mark: Spark writes what DuckDB writes (Spark's reader split lines at a lone CR too, so a
    record holding one was lost as two malformed lines, and a line that is not UTF-8 stopped
    the screening with a traceback)."""
    directory = tmp_path / "export"
    generator().generate(directory, 20, seed=31)
    path = directory / "Condition.1.ndjson"
    lines = path.read_bytes().split(b"\n")[:-1]
    lines[2] = lines[2].replace(b",", b",\r", 1)
    lines[4:6] = [lines[4] + b"\r" + lines[5]]
    lines[7] = lines[7].replace(b"{", b'{"note":"\xff",', 1)
    written = [lines[0], b"", *lines[1:], b"\t"]
    path.write_bytes(b"".join(line + b"\r\n" for line in written))
    patients = directory / "Patient.1.ndjson"
    patients.write_bytes(b"\xef\xbb\xbf" + patients.read_bytes())
    summaries = same_outputs(directory, tmp_path)
    assert summaries[0]["patients"] == summaries[1]["patients"] == 20
    assert summaries[0]["input"]["kept"] == summaries[1]["input"]["kept"]
    # Spark's JSON functions read the first of two values on a line and do not see the second:
    # DuckDB reports the line; on Spark, were it kept, the Python stage would refuse it (its
    # patient not screened, the error naming the line: never screened on half of it)
    not_utf8 = {"file": "Condition.1.ndjson", "line": 9,
                "message": "not UTF-8 text, so not JSON: the line is skipped"}  # fmt: skip
    two_values = {"file": "Condition.1.ndjson", "line": 6,
                  "message": "not JSON: the line is skipped"}  # fmt: skip
    assert summaries[0]["input"]["malformed"] == [two_values, not_utf8]
    assert summaries[1]["input"]["malformed"] == [not_utf8]


def test_a_spark_master_spark_cannot_use_is_a_clear_error(tmp_path: Path) -> None:
    """bulk_bad_option, nothing written; before, a Java stack trace and a Python traceback.
    In a process of its own: a Spark session another test left would be taken as it is."""
    directory = write_export(tmp_path / "export", [male_patient("p1")])
    command = [sys.executable, "-c", "from clotsafe.cli import main; main()", "bulk", "screen",
               str(directory), "--on", ON, "--out", str(tmp_path / "out"), "--engine", "spark",
               "--spark-master", "bogus://x"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Spark did not start" in result.stderr and "[bulk_bad_option]" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "out" / "summary.json").exists()
