"""``bulk screen --engine spark``: the same views on Spark, the same Python stage on the executors.

1. Each file is read with ``spark.read.text`` (gzip by extension; lines split at ``\n`` only
   and a ``\r`` before it dropped, as ``lines.py`` defines them; blank lines kept, so that
   line numbers are physical ones): a row per line with the file's ordinal and its line number
   (``monotonically_increasing_id`` within the file's partitions, which Spark numbers in file
   order, turned into a line number with each partition's line count).
2. Each type's compiled view (``sof.compile_view(..., dialect="spark")``, carrying each line's
   file and line number) and the same SQL of ``screen_views`` give ``keep(type, id, patient,
   file, line)``; the kept lines are joined back by (file, line), without parsing them again.
3. ``groupBy(patient).applyInPandas``: each patient's lines, in export order, go through
   ``screen_patient.PatientScreener`` (the unchanged reader and engine) on an executor; the
   driver collects the Outcomes in patient-id order and writes the same files as DuckDB.

On a cluster the export (NDJSON or gzip) must be on storage every executor reads (HDFS, S3,
a shared mount) and clotsafe installed on every executor (docs/bulk.md, ``spark-submit``).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from clotsafe.fhir.bulk.errors import BulkError, clean, damaged
from clotsafe.fhir.bulk.lines import BAD_CHECK, CANNOT_INFLATE, CUT_SHORT, NOT_GZIP
from clotsafe.fhir.bulk.screen_duckdb import NOT_JSON, NOT_UTF8, InputReport
from clotsafe.fhir.bulk.screen_patient import Outcome, PatientScreener
from clotsafe.fhir.bulk.screen_views import (
    MEDICINE_TYPES,
    NO_ID_SQL,
    NO_PATIENT_ID,
    PREFIX_LENGTHS,
    keep_sql,
    medication_keep_sql,
    medicine_refs_sql,
    other_type,
    views,
)
from clotsafe.fhir.bulk.source import ExportFile, PatientGroup, Row
from clotsafe.fhir.bulk.source_codes import code_rows
from clotsafe.rules.settings import DEFAULT_SETTINGS, Settings

#: Spark SQL: the line is blank (white space only, as Python's ``bytes.strip`` sees it)
BLANK = "resource RLIKE '^[ \\\\t\\\\r\\\\n\\\\f\\\\x0B]*$'"
OUTCOME_SCHEMA = "patient string, line binary, risk binary, info binary"
_LOW_BITS = (1 << 33) - 1  # monotonically_increasing_id: partition index << 33 | row in it


class SparkEngine:
    """The export's files -> Outcomes in patient-id order, screened on Spark's executors."""

    def __init__(self, files: list[ExportFile], at: date, *,
                 settings: Settings = DEFAULT_SETTINGS, master: str | None = None,
                 spark: Any = None) -> None:  # fmt: skip
        from clotsafe.fhir.sof import spark_session

        # the executors' Python must import clotsafe: this interpreter, unless told otherwise
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        self.spark = spark or spark_session(master or "local[2]", "clotsafe-bulk-screen")
        self.spark.sparkContext.setLogLevel("ERROR")
        self.files = files
        self.at = at
        self.settings = settings
        self.report = InputReport()
        self.types = sorted({f.type for f in files} & set(views()))

    # --- 1: numbered lines -----------------------------------------------------------------------
    def prepare(self) -> InputReport:
        spark = self.spark
        spark.createDataFrame(list(code_rows()), "kind string, system string, code string"
                              ).createOrReplaceTempView("codes")  # fmt: skip
        spark.sql(PREFIX_LENGTHS).createOrReplaceTempView("prefix_lengths")
        for t in self.types:
            frame = self._lines([f for f in self.files if f.type == t])
            frame.createOrReplaceTempView(f"lines_{t}")
            usable = f"NOT {BLANK} AND is_valid_utf8(resource)"
            spark.sql(f"SELECT file, line, resource FROM lines_{t} WHERE {usable}"
                      ).createOrReplaceTempView(f"src_{t}")  # fmt: skip
        self._malformed()
        self._keep()
        order = {f.name: f.ordinal for f in self.files}
        self.report.malformed.sort(key=lambda m: (order[m["file"]], m["line"]))
        return self.report

    def _lines(self, files: list[ExportFile]) -> Any:
        from pyspark.sql import functions as F

        # lines as ``lines.py`` defines them: split at "\n" only (Spark's default also splits
        # at a lone "\r", which JSON allows inside a record), a "\r" before it dropped
        value = F.col("value")
        crlf = F.when(value.endswith("\r"), F.expr("substring(value, 1, length(value) - 1)"))
        frames = [
            self.spark.read.text(str(f.path), lineSep="\n")
            .select(F.lit(f.ordinal).alias("file"), crlf.otherwise(value).alias("resource"))
            .withColumn("seq", F.monotonically_increasing_id())
            for f in files
        ]
        frame = frames[0]
        for other in frames[1:]:
            frame = frame.unionByName(other)
        frame = frame.cache()
        return self._numbered(frame)

    def _numbered(self, frame: Any) -> Any:
        """Line numbers from 1 per file: the lines of the file's earlier partitions plus the
        row's place in its own partition."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        part = F.shiftright(F.col("seq"), 33)
        counts = frame.groupBy("file", part.alias("part")).count()
        before = F.sum("count").over(Window.partitionBy("file").orderBy("part")) - F.col("count")
        offsets = counts.select("file", "part", before.alias("before"))
        numbered = frame.withColumn("part", part).join(F.broadcast(offsets), ["file", "part"])
        line = F.col("before") + F.col("seq").bitwiseAND(F.lit(_LOW_BITS)) + 1
        # a byte-order mark opening a file is not part of its first line
        text = F.col("resource")
        bom = (line == 1) & text.startswith("\ufeff")
        text = F.when(bom, F.expr("substring(resource, 2)")).otherwise(text)
        return numbered.select("file", line.cast("long").alias("line"), text.alias("resource"))

    def _malformed(self) -> None:
        """Report each non-blank line that is not UTF-8 (Spark keeps its bytes, which cannot
        reach Python as text), does not parse (Spark's JSON functions read it as NULL: checked
        only where ``resourceType`` does not come out), or is not a resource of its file's
        type (a JSON value of another kind, another resourceType, none), as DuckDB reports
        them: one scan of the lines."""
        names = {f.ordinal: f.name for f in self.files}
        if not self.types:
            return
        kind = "get_json_object(resource, '$.resourceType')"
        parts = [f"SELECT file, line, is_valid_utf8(resource) AS utf8, {kind} AS found, "
                 f"try_parse_json(resource) IS NOT NULL AS json, '{t}' AS type FROM lines_{t} "
                 f"WHERE NOT {BLANK} AND (NOT is_valid_utf8(resource) OR "
                 f"coalesce({kind}, '') <> '{t}')" for t in self.types]  # fmt: skip
        rows = self.spark.sql(" UNION ALL ".join(parts) + " ORDER BY file, line").collect()
        self.report.malformed += [{"file": names[r["file"]], "line": int(r["line"]),
                                   "message": _message(r)} for r in rows]  # fmt: skip

    # --- 2: views and keep ------------------------------------------------------------------------
    def _view_sql(self, t: str) -> str:
        from clotsafe.fhir.sof import compile_view

        return compile_view(views()[t], dialect="spark", source=f"src_{t}",
                            carry=("file", "line"))  # fmt: skip

    def _keep(self) -> None:
        spark = self.spark
        for t in self.types:
            spark.sql(self._view_sql(t)).cache().createOrReplaceTempView(f"flat_{t}")
        parts = [keep_sql(t, f"flat_{t}") for t in self.types if t != "Medication"]
        meds = [t for t in self.types if t in MEDICINE_TYPES]
        if "Medication" in self.types and meds:
            refs = " UNION ".join(medicine_refs_sql(f"flat_{t}") for t in meds)
            spark.sql(refs).createOrReplaceTempView("med_refs")
            parts.append(medication_keep_sql("flat_Medication", "med_refs"))
        keep0 = spark.sql(" UNION ALL ".join(parts)).cache()
        keep0.createOrReplaceTempView("keep0")
        spark.sql("SELECT DISTINCT id FROM keep0 WHERE type = 'Patient' AND id IS NOT NULL"
                  ).createOrReplaceTempView("patients")  # fmt: skip
        if "Patient" in self.types:
            names = {f.ordinal: f.name for f in self.files}
            no_id = spark.sql(NO_ID_SQL.format(flat="flat_Patient")).collect()
            self.report.malformed += [{"file": names[r["file"]], "line": int(r["line"]),
                                       "message": NO_PATIENT_ID} for r in no_id]  # fmt: skip
        keep = spark.sql("SELECT * FROM keep0 WHERE patient IN (SELECT id FROM patients)").cache()
        keep.createOrReplaceTempView("keep")
        r = self.report
        r.patients = spark.sql("SELECT count(*) AS n FROM patients").collect()[0]["n"]
        r.without_patient = keep0.count() - keep.count()
        kept = spark.sql("SELECT type, count(*) AS n FROM keep GROUP BY type").collect()
        r.kept = {row["type"]: row["n"] for row in kept}

    # --- 3: the Python stage on the executors ---------------------------------------------------
    def outcomes(self) -> Iterator[Outcome]:
        if not self.types:
            return
        parts = [f"SELECT file, line, resource FROM lines_{t}" for t in self.types]
        joined = self.spark.sql(
            "SELECT k.patient, l.file, l.line, l.resource FROM ("
            + " UNION ALL ".join(parts)
            + ") l JOIN (SELECT DISTINCT patient, file, line FROM keep) k "
            "ON k.file = l.file AND k.line = l.line"
        )
        screen = _screen_pandas(self.at, [f.name for f in self.files], self.settings)
        result = joined.groupBy("patient").applyInPandas(screen, OUTCOME_SCHEMA)
        for row in result.orderBy("patient").toLocalIterator():
            yield Outcome(f"Patient/{row['patient']}", bytes(row["line"]), bytes(row["risk"]),
                          bytes(row["info"]))  # fmt: skip


def _screen_pandas(at: date, names: list[str], settings: Settings) -> Any:
    """The function each executor runs on one patient's rows (a pandas DataFrame)."""

    def screen(pdf: Any) -> Any:
        import pandas as pd  # type: ignore[import-untyped, unused-ignore]

        global _EXECUTOR
        if _EXECUTOR is None or _EXECUTOR.at != at:
            _EXECUTOR = PatientScreener(at, names, settings)
        pdf = pdf.sort_values(["file", "line"])
        rows = tuple(Row(int(f), int(n), r) for f, n, r in
                     zip(pdf["file"], pdf["line"], pdf["resource"], strict=True))  # fmt: skip
        o = _EXECUTOR.one(PatientGroup(str(pdf["patient"].iloc[0]), rows))
        ref = o.patient.removeprefix("Patient/")
        return pd.DataFrame({"patient": [ref], "line": [o.line], "risk": [o.risk],
                             "info": [o.info]})  # fmt: skip

    return screen


_EXECUTOR: PatientScreener | None = None


def _message(row: Any) -> str:
    """What the summary says of a line ``_malformed`` found."""
    if not row["utf8"]:
        return NOT_UTF8
    if not row["json"]:
        return NOT_JSON
    return other_type(row["found"], row["type"])


# --- a file Spark could not read ---------------------------------------------------------------
#: Spark's words for a task that could not read a file (FAILED_READ_FILE), with its URI
_READ_FILE = re.compile(r"Encountered error while reading file (\S+)\.\s")


def read_failure(exc: Any, files: list[ExportFile]) -> BulkError | None:
    """The error a Spark job that could not read an export file (``exc``: py4j's
    Py4JJavaError) means, as the DuckDB engine says it: a damaged gzip file is
    ``bulk_input_damaged``, another file that could not be read ``bulk_io_error``; None for
    any other failure (raised as it is)."""
    chain = _java_chain(exc.java_exception)
    found = next((m for _cls, message in chain if (m := _READ_FILE.search(message))), None)
    if found is None:
        return None
    name = _file_name(found.group(1), files)
    for cls, message in chain:
        if how := _gzip_damage(cls, message):
            return damaged(f"{name} {how}")
    cause = chain[-1]
    return BulkError("bulk_io_error", f"{name} could not be read ({clean(cause[1]) or cause[0]})")


def _java_chain(error: Any) -> list[tuple[str, str]]:
    """(class name, message) of a Java exception and of its causes, outermost first."""
    chain: list[tuple[str, str]] = []
    while error is not None and len(chain) < 20:
        chain.append((str(error.getClass().getName()), str(error.getMessage() or "")))
        error = error.getCause()
    return chain


def _gzip_damage(cls: str, message: str) -> str | None:
    """How a gzip file is damaged, by the exception Hadoop's gzip reader threw (None: not that)."""
    lower = message.lower()
    if cls == "java.io.EOFException":
        return CUT_SHORT
    if "not a gzip file" in lower or "not in gzip format" in lower:
        return NOT_GZIP
    if "crc" in lower or "size doesn't match" in lower:
        return BAD_CHECK
    if cls in ("java.util.zip.ZipException", "java.util.zip.DataFormatException"):
        return CANNOT_INFLATE
    return None


def _file_name(uri: str, files: list[ExportFile]) -> str:
    """The export file's name for Spark's URI of it (``file:///.../Condition.1.ndjson.gz``)."""
    path = Path(unquote(urlparse(uri).path))
    return next((f.name for f in files if f.path.resolve() == path), path.name)
