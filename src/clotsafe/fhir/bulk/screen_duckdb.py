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
   the type's kept ``(type, id, patient, file, line)``; then one scan of the type's lines
   copies the kept lines' text (``text_<Type>``, an integer join on (file, line): no line is
   parsed again) together with any line that is blank or does not start with ``{``. If there
   is such a line, the record numbers were not line numbers: the type's rows are dropped and
   the general plan (``sof.compile_view``) runs over the type's valid lines instead. So one
   scan both checks the line numbers and reads the kept text (they were two scans).
3. One sort per resource type, one after the other: the type's kept lines (``text_<Type>``,
   or for the general plan and Medications, whose kept rows are known last, the lines joined
   with their kept (file, line) pairs now) ordered by patient id, then export order, into a
   table (``sorted_<Type>``, spilled to disk under the memory limit); the tables are then read
   side by side and merged by patient id in Python (a k-way merge) and handed over one
   :class:`PatientGroup` at a time. Only one patient's rows per type are held in Python.

The connection has a memory limit and a temporary directory, so large exports spill to disk
rather than grow; no extension is installed or loaded (``sof.duckdb_connect``). The engine's
tables and views live in the connection's own in-memory database (not TEMP objects), so that
the per-type fetches can stream side by side on cursors of the same connection.
"""

from __future__ import annotations

import heapq
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from clotsafe.fhir.bulk.screen_views import (
    MEDICINE_TYPES,
    PREFIX_LENGTHS,
    keep_sql,
    medication_keep_sql,
    medicine_refs_sql,
    views,
)
from clotsafe.fhir.bulk.source import ExportFile, PatientGroup, Row
from clotsafe.fhir.bulk.source_codes import code_rows

DEFAULT_MEMORY_LIMIT = "512MB"
FETCH_ROWS = 5_000
#: kept lines per sort (about 0.7 KB each: ~70 MB of text to sort under the memory limit)
CHUNK_ROWS = 100_000
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
        self.files = files
        self.report = InputReport()
        self.types = sorted({f.type for f in files} & set(views()))
        self.checked: set[str] = set()
        #: types whose kept lines were copied out by the schema-read plan's scan (``text_<T>``)
        self.texts: set[str] = set()
        self.chunk_rows = CHUNK_ROWS

    def close(self) -> None:
        self.con.close()

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
        con.execute("CREATE TABLE keep0 (type VARCHAR, id VARCHAR, patient VARCHAR, "
                    "file INTEGER, line BIGINT)")  # fmt: skip
        con.execute("CREATE TABLE med_refs (medication VARCHAR, patient VARCHAR)")
        for t in self.types:
            if not self._flatten_typed(t):
                self._flatten(t)
                self._keep_type(t)
        self._keep()
        return self.report

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
            self.con.execute(f"CREATE OR REPLACE TABLE flat_{t} AS {sql}")
        except duckdb.Error:
            return False
        if self._one(f"SELECT count(*) FROM flat_{t} WHERE __sof_odd"):
            self.con.execute(f"DROP TABLE flat_{t}")
            return False
        if t == "Medication":
            self._keep_type(t)
            return True
        self.con.execute(f"CREATE TABLE keep_{t} AS " + keep_sql(t, f"flat_{t}"))
        if not self._take_text(t):
            self.con.execute(f"DROP TABLE keep_{t}")
            self.con.execute(f"DROP TABLE flat_{t}")
            return False
        self._keep_type(t, kept=f"keep_{t}")
        self.con.execute(f"DROP TABLE keep_{t}")
        return True

    @staticmethod
    def _odd_lines_sql(t: str) -> str:
        """SQL: the count of the type's lines not starting with "{": perhaps blank (not a
        record, so the record numbers would not be line numbers); read without copying."""
        return (f"SELECT count(*) FROM lines_{t} WHERE resource IS NULL "
                "OR NOT starts_with(resource, '{')")  # fmt: skip

    def _take_text(self, t: str) -> bool:
        """``text_<Type>(patient, file, line, resource)``: the lines ``keep_<Type>`` names and
        every line not starting with "{", in one scan; False (and no table) when there is such
        a line: then the record numbers ``keep_<Type>`` holds may not be line numbers."""
        con = self.con
        # the kept pairs are the hash join's build side, as written: DuckDB's estimate of a
        # read_csv is poor, and with the lines as build side (every line's text in a hash
        # table) 10,000 patients' Conditions spilled 600 MB and took 3.5 x longer
        con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
        con.execute(
            f"CREATE TABLE text_{t} AS SELECT k.patient, l.file, l.line, l.resource "
            f"FROM lines_{t} l LEFT JOIN (SELECT DISTINCT patient, file, line FROM keep_{t}) k "
            "ON l.file = k.file AND l.line = k.line "
            "WHERE k.line IS NOT NULL OR l.resource IS NULL OR NOT starts_with(l.resource, '{')"
        )
        con.execute("RESET disabled_optimizers")
        if self._one(f"SELECT count(*) FROM text_{t} WHERE resource IS NULL "
                     "OR NOT starts_with(resource, '{')"):  # fmt: skip
            con.execute(f"DROP TABLE text_{t}")
            return False
        self.texts.add(t)
        return True

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

    def _keep_type(self, t: str, *, kept: str | None = None) -> None:
        """The type's kept rows (``keep_sql``, or the table ``kept`` holding them) into
        ``keep0`` (and the Medications its medicines name into ``med_refs``), then its view
        rows are dropped: one type's at a time in memory."""
        con = self.con
        if t != "Medication":
            con.execute("INSERT INTO keep0 " + (f"SELECT * FROM {kept}" if kept
                                                else keep_sql(t, f"flat_{t}")))  # fmt: skip
        if t in MEDICINE_TYPES:
            con.execute("INSERT INTO med_refs " + medicine_refs_sql(f"flat_{t}"))
        if t != "Medication":
            con.execute(f"DROP TABLE flat_{t}")

    def _keep(self) -> None:
        """``keep(type, patient, file, line)``: the kept rows of the export's patients."""
        con = self.con
        if "Medication" in self.types:
            con.execute("INSERT INTO keep0 " + medication_keep_sql("flat_Medication", "med_refs"))
            con.execute("DROP TABLE flat_Medication")
        con.execute("CREATE TABLE patients AS SELECT DISTINCT id FROM keep0 "
                    "WHERE type = 'Patient'")  # fmt: skip
        con.execute("CREATE TABLE keep AS SELECT type, patient, file, line FROM keep0 "
                    "WHERE patient IN (SELECT id FROM patients)")  # fmt: skip
        r = self.report
        r.patients = self._one("SELECT count(*) FROM patients")
        r.without_patient = self._one("SELECT count(*) FROM keep0") - self._one(
            "SELECT count(*) FROM keep"
        )
        r.kept = dict(con.execute("SELECT type, count(*) FROM keep GROUP BY type").fetchall())
        con.execute("DROP TABLE keep0")
        con.execute("DROP TABLE med_refs")

    def _one(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    # --- 3: the groups -------------------------------------------------------------------------
    def groups(self) -> Iterator[PatientGroup]:
        """Each patient's kept lines, patients by id, lines in export order: each type's kept
        lines sorted into a table of their own, one type at a time, then the tables read side
        by side and merged by patient (types are in export order, so are their rows)."""
        if not self.types:
            return
        # from here on, a table keeps the order its rows were inserted in, and a scan gives it
        self.con.execute("SET preserve_insertion_order = true")
        for t in self.types:
            self._sort(t)
        yield from merge_groups([self._fetch(t) for t in self.types])

    def _sort(self, t: str) -> None:
        """``sorted_<Type>(patient, file, line, resource)``: the type's kept lines by patient
        then line. The kept lines are copied out unsorted (``text_<Type>``, unless the
        schema-read plan's scan did), then sorted in patient-id ranges of at most
        ``chunk_rows`` lines, appended in range order: at 100,000 patients one sort of the 2
        million kept Observations (1.4 GB) ran out of the 512MB, and so did eight sorts
        streaming side by side."""
        con = self.con
        if t not in self.texts:
            # the kept pairs are the build side, as written (see ``_take_text``)
            con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
            con.execute(
                f"CREATE TABLE text_{t} AS SELECT k.patient, l.file, l.line, l.resource "
                f"FROM lines_{t} l JOIN (SELECT DISTINCT patient, file, line FROM keep "
                f"WHERE type = '{t}') k ON l.file = k.file AND l.line = k.line"
            )
            con.execute("RESET disabled_optimizers")
        con.execute(f"CREATE TABLE sorted_{t} AS SELECT * FROM text_{t} LIMIT 0")
        # text_<Type> of the schema-read plan also holds resources of no Patient of the export
        for lo, hi in self.ranges(t):
            con.execute(f"INSERT INTO sorted_{t} SELECT * FROM text_{t} WHERE patient >= ? "
                        "AND patient <= ? AND patient IN (SELECT id FROM patients) "
                        "ORDER BY patient, file, line", [lo, hi])  # fmt: skip
        con.execute(f"DROP TABLE text_{t}")

    def ranges(self, t: str) -> list[tuple[str, str]]:
        """Patient-id ranges of at most ``chunk_rows`` kept lines of the type (a patient with
        more is a range of its own)."""
        rows = self.con.execute(f"SELECT patient, count(*) FROM keep WHERE type = '{t}' "
                                "GROUP BY patient ORDER BY patient").fetchall()  # fmt: skip
        out: list[tuple[str, str]] = []
        first: str | None = None
        last = ""
        size = 0
        for patient, n in rows:
            if first is not None and size + n > self.chunk_rows:
                out.append((first, last))
                first, size = None, 0
            first = patient if first is None else first
            last = patient
            size += n
        if first is not None:
            out.append((first, last))
        return out

    def _fetch(self, t: str) -> Iterator[tuple[str, int, int, str]]:
        """(patient, file, line, resource) of ``sorted_<Type>`` in its order, on a cursor of
        its own so that the types stream side by side."""
        cur = self.con.cursor()
        cur.execute("SET preserve_insertion_order = true")
        cur.execute(f"SELECT patient, file, line, resource FROM sorted_{t}")
        try:
            while batch := cur.fetchmany(FETCH_ROWS):
                yield from batch
        finally:
            cur.close()


def merge_groups(streams: Iterable[Iterable[tuple[str, int, int, Any]]]) -> Iterator[PatientGroup]:
    """A k-way merge of (patient, file, line, text) streams, each sorted by patient then
    (file, line), given in export order: one PatientGroup per patient with the rows of the
    first stream first (``heapq.merge`` keeps the streams' order for equal patients)."""
    first = itemgetter(0)
    # each patient's rows of a stream as a list: the merge reads a stream's next patient
    # before the current one is used, which would empty a lazy groupby group
    per_stream = [((pid, list(rows)) for pid, rows in groupby(s, key=first)) for s in streams]
    merged = heapq.merge(*per_stream, key=first)
    for pid, parts in groupby(merged, key=first):
        yield PatientGroup(pid, tuple(Row(f, n, raw) for _pid, rows in parts
                                      for _p, f, n, raw in rows))  # fmt: skip
