"""``bulk screen --engine duckdb``: DuckDB (embedded) filters, flattens and groups; Python decides.

1. Each file is read as lines (``read_csv`` with one column and no delimiter, gzip by
   extension), numbered by physical line; a non-blank line that is not JSON is reported with its
   file and line, and the rest of the file is read.
2. Each type's compiled SQL on FHIR view (``views/``, ``clotsafe.fhir.sof.compile_view``) runs
   over its valid lines; ``screen_views.keep_sql`` joins the codings with the code lists and
   gives ``keep(type, id, patient)``.
3. The kept resources' lines are fetched again, ordered by patient id, then export order, and
   handed over one :class:`PatientGroup` at a time (a bounded batch in memory).

The connection has a memory limit and a temporary directory, so large exports spill to disk
rather than grow; no extension is installed or loaded (``sof.duckdb_connect``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
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
FETCH_ROWS = 20_000
#: kept resources per sorted fetch (about 1 KB each: ~100 MB of text to sort)
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
        # the grouped fetch has its own ORDER BY, and line numbers come from the scan itself
        # (WITH ORDINALITY): keeping insertion order would only hold rows in memory (at 10,000
        # patients the fetch ran out of the 512MB with it)
        self.con.execute("SET preserve_insertion_order = false")
        self.files = files
        self.report = InputReport()
        self.types = sorted({f.type for f in files} & set(views()))
        self.checked: set[str] = set()
        self.chunk_rows = CHUNK_ROWS

    def close(self) -> None:
        self.con.close()

    # --- 1 and 2: lines, views, keep ---------------------------------------------------------
    def prepare(self) -> InputReport:
        con = self.con
        con.execute("CREATE TEMP TABLE codes (kind VARCHAR, system VARCHAR, code VARCHAR)")
        con.executemany("INSERT INTO codes VALUES (?, ?, ?)", list(code_rows()))
        for t in self.types:
            parts = [lines_sql(f) for f in self.files if f.type == t]
            con.execute(f"CREATE TEMP VIEW lines_{t} AS " + " UNION ALL ".join(parts))
            self._source(t, checked=False)
        for t in self.types:
            self._flatten(t)
        self._keep()
        return self.report

    def _source(self, t: str, *, checked: bool) -> None:
        """``src_<Type>``: the type's lines, JSON-checked only once a file proved to need it
        (checking costs a parse of every line; malformed lines are rare)."""
        check = " AND json_valid(resource)" if checked else ""
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW src_{t} AS SELECT resource FROM lines_{t} "
                         f"WHERE resource IS NOT NULL AND trim(resource) <> ''{check}")  # fmt: skip
        if checked:
            self.checked.add(t)

    def _flatten(self, t: str) -> None:
        """The type's view rows, materialised (``flat_<Type>``: small, no resource text); a
        malformed line found on the way is reported and the type read again without it."""
        import duckdb

        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE flat_{t} AS {self._view_sql(t)}")
        except duckdb.InvalidInputException as exc:
            if t in self.checked or "JSON" not in str(exc):
                raise
            self._malformed(t)
            self._source(t, checked=True)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE flat_{t} AS {self._view_sql(t)}")

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

        return compile_view(views()[t], dialect="duckdb", source=f"src_{t}")

    def _keep(self) -> None:
        con = self.con
        con.execute(f"CREATE TEMP TABLE prefix_lengths AS {PREFIX_LENGTHS}")
        parts = [keep_sql(t, f"flat_{t}") for t in self.types if t != "Medication"]
        con.execute("CREATE TEMP TABLE keep0 AS " + " UNION ALL ".join(parts))
        meds = [t for t in self.types if t in MEDICINE_TYPES]
        if "Medication" in self.types and meds:
            refs = " UNION ".join(medicine_refs_sql(f"flat_{t}") for t in meds)
            con.execute(f"CREATE TEMP TABLE med_refs AS {refs}")
            con.execute("INSERT INTO keep0 " + medication_keep_sql("flat_Medication", "med_refs"))
        con.execute("CREATE TEMP TABLE patients AS SELECT DISTINCT id FROM keep0 "
                    "WHERE type = 'Patient'")  # fmt: skip
        con.execute("CREATE TEMP TABLE keep AS SELECT * FROM keep0 "
                    "WHERE patient IN (SELECT id FROM patients)")  # fmt: skip
        r = self.report
        r.patients = self._one("SELECT count(*) FROM patients")
        r.without_patient = self._one("SELECT count(*) FROM keep0") - self._one(
            "SELECT count(*) FROM keep"
        )
        r.kept = dict(con.execute("SELECT type, count(*) FROM keep GROUP BY type").fetchall())

    def _one(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    # --- 3: the groups -------------------------------------------------------------------------
    def groups(self) -> Iterator[PatientGroup]:
        """Each patient's kept lines, patients by id, lines in export order."""
        if not self.types:
            return
        parts = [f"SELECT '{t}' AS type, file, line, resource FROM lines_{t} "
                 "WHERE resource IS NOT NULL AND trim(resource) <> ''"
                 + (" AND json_valid(resource)" if t in self.checked else "")
                 for t in self.types]  # fmt: skip
        sql = (
            "SELECT k.patient, l.file, l.line, l.resource FROM ("
            + " UNION ALL ".join(parts)
            + ") l JOIN (SELECT * FROM keep WHERE patient >= ? AND patient <= ?) k "
            "ON k.type = l.type AND k.id = json_extract_string(l.resource, '$.id') "
            "ORDER BY k.patient, l.file, l.line"
        )
        for lo, hi in self.ranges():
            yield from _grouped(self.con.execute(sql, [lo, hi]))

    def ranges(self) -> list[tuple[str, str]]:
        """Patient-id ranges of at most ``chunk_rows`` kept resources each: one sorted fetch
        per range, so the sort of the resources' text fits the memory limit (at 10,000
        patients a single fetch did not: DuckDB did not spill it). Each range reads the files
        once more; a small export is one range."""
        rows = self.con.execute(
            "SELECT patient, count(*) FROM keep GROUP BY patient ORDER BY patient"
        ).fetchall()
        out: list[tuple[str, str]] = []
        start: str | None = None
        size = 0
        for patient, n in rows:
            start = patient if start is None else start
            size += n
            if size >= self.chunk_rows:
                out.append((start, patient))
                start, size = None, 0
        if start is not None:
            out.append((start, rows[-1][0]))
        return out


def _grouped(cur: Any) -> Iterator[PatientGroup]:
    current: str | None = None
    rows: list[Row] = []
    while batch := cur.fetchmany(FETCH_ROWS):
        for patient, file, line, raw in batch:
            if patient != current:
                if current is not None:
                    yield PatientGroup(current, tuple(rows))
                current, rows = patient, []
            rows.append(Row(file, line, raw))
    if current is not None:
        yield PatientGroup(current, tuple(rows))
