"""``bulk screen --engine duckdb``: DuckDB (embedded) filters, flattens and groups; Python decides.

1. Each file is read as lines (``read_csv`` with one column and no delimiter, gzip by
   extension), numbered by physical line; a non-blank line that is not JSON is reported with its
   file and line, and the rest of the file is read.
2. Each type's SQL on FHIR view (``views/``) gives its rows with each line's file and line
   number. First the schema-read plan (``sof.compile_typed_ndjson``: ``read_json`` with only
   the fields the view names, one parse per line, about 4 x faster); it is kept only when
   DuckDB read every line with the schema (a malformed line or another shape stops it), no
   text column was flagged and the type's files have no blank line (its line numbers are
   record numbers). ``screen_views.keep_sql`` joins the codings with the code lists and gives
   the type's kept ``(type, id, patient, file, line)``; then one scan of each of the type's
   files writes the kept lines' text to disk (below; an integer join on the line number: no
   line is parsed again) and finds any line that is blank or does not start with ``{``. If
   there is such a line, the record numbers were not line numbers: the type's text is deleted
   and the general plan (``sof.compile_view``) runs over the type's valid lines instead. So
   one scan both checks the line numbers and reads the kept text.
3. The Patient type is read first, and its ids, in order, cut into parts of
   ``PART_PATIENTS`` patients (``patient_part``). Each type's kept lines (for the general plan
   and for Medications, whose kept rows are known last, once ``kept`` is complete) are written
   as they are found to compressed Parquet files, one directory per part
   (``COPY ... PARTITION_BY``): nothing of the text stays in DuckDB's memory, and what goes to
   disk is about a fifth of its size. Then part after part, every type's lines of that part
   are read back sorted by patient id, then file and line (the file numbers are in export
   order, so one sort puts each patient's lines in export order) and handed over one
   :class:`PatientGroup` at a time. One part's lines are sorted at a time, whatever the size
   of the export (before, the kept text of every type was held in DuckDB, spilled at 100,000
   patients, and scanned again for each patient range of each sort).

The connection has a memory limit and a temporary directory, so large exports spill to disk
rather than grow; no extension is installed or loaded (``sof.duckdb_connect``). The engine's
tables and views live in the connection's own in-memory database (not TEMP objects), so that
a part's sorted lines stream on a cursor of their own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from clotsafe.fhir.bulk.screen_views import (
    MEDICINE_TYPES,
    PREFIX_LENGTHS,
    candidates_sql,
    keep_sql,
    medication_keep_sql,
    medicine_refs_sql,
    views,
)
from clotsafe.fhir.bulk.source import ExportFile, PatientGroup, Row
from clotsafe.fhir.bulk.source_codes import code_rows

#: DuckDB's memory limit: at 100,000 patients 256MB gives a peak of ~380 MiB against ~640
#: with 512MB, and was not slower (benchmarks/bulk/README.md); the sorted parts are small
DEFAULT_MEMORY_LIMIT = "256MB"
FETCH_ROWS = 5_000
#: patients per part: one part's kept lines are sorted at a time (at ~30 kept lines of ~0.7
#: KB a patient, about 40 MB)
PART_PATIENTS = 2_000
#: rows per Parquet row group, and (an eighth of it) rows a part's buffer holds before it is
#: handed to its writer: both bound the writers' memory (up to 100 parts open at once),
#: whatever the size of the export (the Parquet writers' buffers cannot spill)
FLUSH_ROWS = 2_000
#: the longest line (one resource) read: 4 MiB; DuckDB's buffers are sized from it, and a
#: gzip file's would not fit the memory limit with a larger one
MAX_LINE = 4 << 20


@dataclass
class InputReport:
    """What the engine read: resources kept per type, unreadable lines, unattached resources."""

    kept: dict[str, int] = field(default_factory=dict)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    #: kept resources whose subject names no Patient of the export (not screened)
    without_patient: int = 0
    patients: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"kept": dict(sorted(self.kept.items())), "malformed": self.malformed,
                "without_patient": self.without_patient}  # fmt: skip


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def lines_sql(f: ExportFile) -> str:
    """SELECT file, line, resource: every physical line of one file (NULL when blank)."""
    reader = (
        f"read_csv({_lit(str(f.path))}, columns = {{'resource': 'VARCHAR'}}, delim = chr(1), "
        "quote = '', escape = '', header = false, auto_detect = false, "
        f"max_line_size = {MAX_LINE}, buffer_size = {2 * MAX_LINE}, compression = 'auto')"
    )
    return f"SELECT {f.ordinal} AS file, ordinality AS line, resource FROM {reader} WITH ORDINALITY"


class DuckDbEngine:
    """The export's files -> PatientGroups in patient-id order (see the module docstring)."""

    def __init__(
        self,
        files: list[ExportFile],
        *,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        temp_directory: Path | None = None,
        threads: int | None = None,
    ) -> None:
        from clotsafe.fhir.sof import duckdb_connect

        temp = temp_directory or Path(tempfile.gettempdir()) / f"clotsafe-duckdb-{os.getpid()}"
        self.con = duckdb_connect(memory_limit=memory_limit, temp_directory=temp,
                                  threads=threads)  # fmt: skip
        # until the sorts (``groups``), line numbers come from the scans themselves (WITH
        # ORDINALITY) and no table's order matters: keeping insertion order would only hold
        # rows in memory
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute(f"SET partitioned_write_flush_threshold = {FLUSH_ROWS // 8}")
        #: the kept lines' text as Parquet: ``<Type>/<file>/part=<n>/*.parquet``
        self.parts_dir = Path(tempfile.mkdtemp(prefix="kept-", dir=temp))
        self.parts = 0
        self.files = files
        self.report = InputReport()
        self.types = sorted({f.type for f in files} & set(views()))
        self.checked: set[str] = set()
        #: types whose kept lines were written by the schema-read plan's scan
        self.texts: set[str] = set()
        self.part_patients = PART_PATIENTS

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.parts_dir, ignore_errors=True)

    # --- 1 and 2: lines, views, keep ---------------------------------------------------------
    def prepare(self) -> InputReport:
        con = self.con
        con.execute("CREATE TABLE codes (kind VARCHAR, system VARCHAR, code VARCHAR)")
        con.executemany("INSERT INTO codes VALUES (?, ?, ?)", list(code_rows()))
        for t in self.types:
            parts = [lines_sql(f) for f in self.files if f.type == t]
            con.execute(f"CREATE VIEW lines_{t} AS " + " UNION ALL ".join(parts))
            self._source(t, checked=False)
        con.execute(f"CREATE TABLE prefix_lengths AS {PREFIX_LENGTHS}")
        # the kept lines, small: the patient as its number (``patient_part``); a kept line
        # whose subject is no Patient of the export has none (``stray``: its reference)
        con.execute("CREATE TABLE kept (file INTEGER, line BIGINT, pno INTEGER, stray VARCHAR)")
        con.execute("CREATE TABLE med_refs (medication VARCHAR, patient VARCHAR)")
        con.execute("CREATE TABLE patient_part (patient VARCHAR, pno INTEGER, part INTEGER)")
        # the Patients first: their ids decide the parts every type's text is written to
        for t in sorted(self.types, key=lambda t: t != "Patient"):
            if not self._flatten_typed(t):
                self._flatten(t)
                if t == "Patient":
                    self._cut_parts("SELECT id FROM flat_Patient")
                self._keep_type(t)
        self._keep()
        for t in self.types:
            if t not in self.texts:
                self._write_kept(t)
        return self.report

    def _cut_parts(self, patients: str) -> None:
        """``patient_part``: the Patients' ids in order, numbered from 0 (``pno``), and
        ``part_patients`` to a part (cut again when the Patients' schema-read plan gave way
        to the general one)."""
        self.con.execute("DELETE FROM patient_part")
        self.con.execute(
            "INSERT INTO patient_part SELECT id, pno, pno // "
            f"{int(self.part_patients)} FROM (SELECT id, (row_number() OVER (ORDER BY id)) - 1 "
            f"AS pno FROM (SELECT DISTINCT id FROM ({patients}) WHERE id IS NOT NULL))"
        )
        self.parts = self._one("SELECT coalesce(max(part) + 1, 0) FROM patient_part")

    @staticmethod
    def _compact(rows: str) -> str:
        """SQL: kept rows ``(type, id, patient, file, line)`` as ``kept`` holds them."""
        return (
            "SELECT DISTINCT k.file, k.line, p.pno, CASE WHEN p.pno IS NULL THEN k.patient END "
            f"FROM ({rows}) k LEFT JOIN patient_part p ON p.patient = k.patient"
        )

    def _copy_parts(self, f: ExportFile, kept: str, *, odd: bool) -> bool:
        """Write the file's lines that ``kept`` (file, line, pno) names, with their patient,
        to ``<Type>/<file>/part=<n>/``; with ``odd``, also every line not starting with "{"
        (part NULL, even where a kept record number names it), and False if there was one.
        One file at a time: the join's kept pairs (its build side) are one file's."""
        target = self.parts_dir / f.type / str(f.ordinal)
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(exist_ok=True)
        bad = "l.resource IS NULL OR NOT starts_with(l.resource, '{')"
        part = f"CASE WHEN {bad} THEN NULL ELSE p.part END" if odd else "p.part"
        select = (
            f"SELECT {part} AS part, p.pno, p.patient, l.file, l.line, l.resource "
            f"FROM ({lines_sql(f)}) l {'LEFT ' if odd else ''}JOIN (SELECT line, pno FROM {kept} "
            f"WHERE pno IS NOT NULL AND file = {f.ordinal}) k ON l.line = k.line "
            "LEFT JOIN patient_part p ON p.pno = k.pno"
            + (f" WHERE k.line IS NOT NULL OR {bad}" if odd else "")
        )
        options = f"FORMAT parquet, PARTITION_BY (part), ROW_GROUP_SIZE {FLUSH_ROWS}"
        # the kept pairs are the hash join's build side, as written: DuckDB's estimate of a
        # read_csv is poor, and with the lines as build side (every line's text in a hash
        # table) 10,000 patients' Conditions spilled 600 MB and took 3.5 x longer
        self.con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
        self.con.execute(f"COPY ({select}) TO {_lit(str(target))} ({options})")
        self.con.execute("RESET disabled_optimizers")
        return not (target / "part=__HIVE_DEFAULT_PARTITION__").exists()

    def _source(self, t: str, *, checked: bool) -> None:
        """``src_<Type>``: the type's lines, JSON-checked only once a file proved to need it
        (checking costs a parse of every line; malformed lines are rare)."""
        check = " AND json_valid(resource)" if checked else ""
        self.con.execute(f"CREATE OR REPLACE VIEW src_{t} AS SELECT file, line, resource "
                         f"FROM lines_{t} "
                         f"WHERE resource IS NOT NULL AND trim(resource) <> ''{check}")  # fmt: skip
        if checked:
            self.checked.add(t)

    def _flatten(self, t: str) -> None:
        """The type's view rows with their file and line by the general plan, materialised
        (``flat_<Type>``: small, no resource text); a malformed line found on the way is
        reported and the type read again without it."""
        import duckdb

        try:
            self.con.execute(f"CREATE OR REPLACE TABLE flat_{t} AS {self._view_sql(t)}")
        except duckdb.InvalidInputException as exc:
            if t in self.checked or "JSON" not in str(exc):
                raise
            self._malformed(t)
            self._source(t, checked=True)
            self.con.execute(f"CREATE OR REPLACE TABLE flat_{t} AS {self._view_sql(t)}")

    def _flatten_typed(self, t: str) -> bool:
        """``flat_<Type>`` by the schema-read plan; False when it does not apply (then the
        general plan runs: see the module docstring)."""
        import duckdb

        from clotsafe.fhir.sof import compile_typed_ndjson

        files = [(f.ordinal, str(f.path)) for f in self.files if f.type == t]
        sql = compile_typed_ndjson(views()[t], files, max_line=MAX_LINE)
        # Medications are kept by what the later types name: their line numbers are checked
        # first, on their own (a small type)
        if sql is None or (t == "Medication" and self._one(self._odd_lines_sql(t))):
            return False
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE flat_{t} AS "
                             + candidates_sql(t, f"({sql})"))  # fmt: skip
        except duckdb.Error:
            return False
        if self._one(f"SELECT count(*) FROM flat_{t} WHERE __sof_odd"):
            self.con.execute(f"DROP TABLE flat_{t}")
            return False
        if t == "Medication":
            self._keep_type(t)
            return True
        if t == "Patient":
            self._cut_parts(f"SELECT id FROM flat_{t}")
        self.con.execute(f"CREATE TABLE keep_{t} AS SELECT * FROM kept LIMIT 0")
        # the view rows are dropped before the text is written: the Parquet writers' buffers
        # cannot spill, the view's rows (5 million Observations at 100,000 patients) can but
        # would take the room (the Medications named twice are joined with DISTINCT)
        self._keep_type(t, into=f"keep_{t}")
        if not self._take_text(t):
            self.con.execute(f"DROP TABLE keep_{t}")
            return False
        self.con.execute(f"INSERT INTO kept SELECT * FROM keep_{t}")
        self.con.execute(f"DROP TABLE keep_{t}")
        return True

    @staticmethod
    def _odd_lines_sql(t: str) -> str:
        """SQL: the count of the type's lines not starting with "{": perhaps blank (not a
        record, so the record numbers would not be line numbers); read without copying."""
        return (f"SELECT count(*) FROM lines_{t} WHERE resource IS NULL "
                "OR NOT starts_with(resource, '{')")  # fmt: skip

    def _take_text(self, t: str) -> bool:
        """The lines ``keep_<Type>`` names written to the parts, each file's in one scan that
        also finds any line not starting with "{"; False (and nothing written) when there is
        such a line: then the record numbers ``keep_<Type>`` holds may not be line numbers."""
        for f in self.files:
            if f.type == t and not self._copy_parts(f, f"keep_{t}", odd=True):
                shutil.rmtree(self.parts_dir / t)
                return False
        self.texts.add(t)
        return True

    def _write_kept(self, t: str) -> None:
        """The type's kept lines (by ``kept``) written to the parts: for the general plan and
        the Medications, once every type's kept rows are known."""
        for f in self.files:
            if f.type == t:
                self._copy_parts(f, "kept", odd=False)

    def _malformed(self, t: str) -> None:
        names = {f.ordinal: f.name for f in self.files}
        rows = self.con.execute(
            f"SELECT file, line FROM lines_{t} WHERE resource IS NOT NULL "
            "AND trim(resource) <> '' AND NOT json_valid(resource) ORDER BY file, line"
        ).fetchall()
        self.report.malformed += [{"file": names[f], "line": n,
                                   "message": "not JSON: the line is skipped"}
                                  for f, n in rows]  # fmt: skip

    def _view_sql(self, t: str) -> str:
        from clotsafe.fhir.sof import compile_view

        return compile_view(views()[t], dialect="duckdb", source=f"src_{t}",
                            carry=("file", "line"))  # fmt: skip

    def _keep_type(self, t: str, *, into: str = "kept") -> None:
        """The type's kept rows (``keep_sql``) into ``into`` (and the Medications its
        medicines name into ``med_refs``), then its view rows are dropped: one type's at a
        time in memory."""
        con = self.con
        if t != "Medication":
            con.execute(f"INSERT INTO {into} " + self._compact(keep_sql(t, f"flat_{t}")))
        if t in MEDICINE_TYPES:
            con.execute("INSERT INTO med_refs " + medicine_refs_sql(f"flat_{t}"))
        if t != "Medication":
            con.execute(f"DROP TABLE flat_{t}")

    def _keep(self) -> None:
        """The Medications the kept medicines name into ``kept``; the report's counts."""
        con = self.con
        if "Medication" in self.types:
            con.execute("INSERT INTO kept " + self._compact(
                medication_keep_sql("flat_Medication", "med_refs")))  # fmt: skip
            con.execute("DROP TABLE flat_Medication")
        r = self.report
        r.patients = self._one("SELECT count(*) FROM patient_part")
        r.without_patient = self._one("SELECT count(*) FROM kept WHERE pno IS NULL")
        types = {f.ordinal: f.type for f in self.files}
        for file, n in con.execute("SELECT file, count(*) FROM kept WHERE pno IS NOT NULL "
                                   "GROUP BY file").fetchall():  # fmt: skip
            r.kept[types[file]] = r.kept.get(types[file], 0) + n
        con.execute("DROP TABLE med_refs")

    def _one(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    # --- 3: the groups -------------------------------------------------------------------------
    def groups(self) -> Iterator[PatientGroup]:
        """Each patient's kept lines, patients by id, lines in export order: part after part,
        the part's lines of every type sorted by patient, file and line."""
        first = itemgetter(0)
        for part in range(self.parts):
            paths = sorted(str(p) for p in self.parts_dir.glob(f"*/*/part={part}/*.parquet"))
            if not paths:
                continue
            rows = self._sorted(paths)
            for pid, lines in groupby(rows, key=first):
                yield PatientGroup(pid, tuple(Row(f, n, raw) for _p, f, n, raw in lines))

    def _sorted(self, paths: list[str]) -> Iterator[tuple[str, int, int, str]]:
        """(patient, file, line, resource) of one part's files, sorted."""
        cur = self.con.cursor()
        files = "[" + ", ".join(_lit(p) for p in paths) + "]"
        cur.execute(f"SELECT patient, file, line, resource FROM read_parquet({files}) "
                    "ORDER BY pno, file, line")  # fmt: skip
        try:
            while batch := cur.fetchmany(FETCH_ROWS):
                yield from batch
        finally:
            cur.close()
