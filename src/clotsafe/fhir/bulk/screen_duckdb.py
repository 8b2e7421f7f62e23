"""``bulk screen --engine duckdb``: DuckDB (embedded) filters and flattens; Python decides.

1. A line is what ``lines`` says: the bytes between two newlines, numbered from 1, found by
   the bytes (numpy), never by a CSV reader (which refuses a carriage return inside a record
   and numbers lines its own way).
2. Each type's SQL on FHIR view (``views/``) gives its rows with each line's file and line
   number. First the schema-read plan (``sof.compile_typed_ndjson``: ``read_json`` with only
   the fields the view names, one parse per line, about 4 x faster); it is kept only when
   DuckDB read every line with the schema (a malformed line or another shape stops it), no
   text column was flagged and, up to the last kept line of each file, every line starts with
   ``{`` (no blank line: its record numbers are line numbers). The view rows that could be
   kept (``candidates_sql``) are written to Parquet as they are read; ``screen_views.keep_sql``
   joins their codings with the code lists and writes the type's kept ``(file, line, patient
   number)`` to its keep file (Parquet too: no kept row is held in memory, nor made DISTINCT,
   so the peak does not grow with the export); then each of the type's files is read once
   more as bytes (``lines.pick``: the newlines found at several GB/s, no line parsed again),
   which both fetches the kept lines' text and checks the line numbers. If a line does not
   start with ``{``, the type's text is dropped and the general plan (``sof.compile_view``)
   runs instead, over the type's lines as ``lines`` numbers them (written to Parquet for
   DuckDB; a line that is not UTF-8 is reported and skipped there).
3. The Patient type is read first, and its ids, in order, cut into parts of
   ``PART_PATIENTS`` patients (``patient_part``). Each kept line's text is written as it is
   found to its patient's part (``kept_text``): the general plan's and the Medications' once
   every type's keep file is written. Then part after part, the part's lines of every type
   are sorted by patient, file and line (the file numbers are in export order, so each
   patient's lines come in export order) and handed over one :class:`PatientGroup` at a time:
   one part's text is in memory at a time, whatever the size of the export.

The connection has a memory limit and a temporary directory, so large exports spill to disk
rather than grow; no extension is installed or loaded (``sof.duckdb_connect``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.bulk.kept_text import KeptText, PatientRange
from clotsafe.fhir.bulk.lines import Ints, OddLine, chunks, first_odd, pick
from clotsafe.fhir.bulk.screen_views import (
    MEDICINE_TYPES,
    NO_ID_SQL,
    NO_PATIENT_ID,
    PREFIX_LENGTHS,
    candidates_sql,
    keep_sql,
    medication_keep_sql,
    medicine_refs_sql,
    other_type,
    views,
)
from clotsafe.fhir.bulk.source import ExportFile, PatientGroup
from clotsafe.fhir.bulk.source_codes import code_rows

#: DuckDB's memory limit: at 100,000 patients 256MB gives a peak of ~380 MiB against ~640
#: with 512MB, and was not slower (benchmarks/bulk/README.md); the sorted parts are small
DEFAULT_MEMORY_LIMIT = "256MB"
#: patients per part: one part's kept lines are sorted at a time (at ~30 kept lines of ~1
#: KB a patient, about 60 MB)
PART_PATIENTS = 2_000
#: the longest record the schema-read plan reads: 4 MiB (DuckDB's buffers are sized from it;
#: a longer one sends its type the general way)
MAX_LINE = 4 << 20
#: lines handed to the general plan's Parquet writer at a time, and lines per row group (DuckDB
#: holds a row group per thread, and its JSON functions several times that: ~250 KB, so the
#: general plan runs under a 64MB limit, as with 2,000 it did not)
LINE_BATCH = 20_000
LINE_GROUP = 250


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


#: a file, the line numbers of it to fetch (ascending) and each one's patient number
Wanted = tuple[ExportFile, Ints, Ints]
#: what the summary says of a line that is not JSON, and of one that is not UTF-8 text
NOT_JSON = "not JSON: the line is skipped"
NOT_UTF8 = "not UTF-8 text, so not JSON: the line is skipped"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _once(lines: Ints, pnos: Ints) -> tuple[Ints, Ints]:
    """Sorted (line, patient) pairs without their repeats (a line kept by two of its codings
    comes twice from the keep file)."""
    if len(lines) < 2:
        return lines, pnos
    new = np.ones(len(lines), bool)
    new[1:] = (lines[1:] != lines[:-1]) | (pnos[1:] != pnos[:-1])
    return lines[new], pnos[new]


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
        #: DuckDB's threads (as given, or its default: one per core)
        self.threads = self._one("SELECT current_setting('threads')")
        #: the kept lines' text (``kept_text``) and the general plan's lines, patient data:
        #: inside DuckDB's temporary directory (its owner's only), deleted on close
        self.parts_dir = Path(tempfile.mkdtemp(prefix="kept-", dir=temp))
        self.parts = 0
        self.files = files
        self.report = InputReport()
        self.types = sorted({f.type for f in files} & set(views()))
        self.checked: set[str] = set()
        #: types whose kept lines were written by the schema-read plan's scan
        self.texts: set[str] = set()
        self.part_patients = PART_PATIENTS
        self.kept_text = KeptText(self.parts_dir / "text", self.part_patients)
        #: the Medications' view rows (SQL), kept until the medicines have named theirs
        self.medications: str | None = None
        #: per type, its files' lines that are not of that type (file, line, resourceType), as
        #: the plan finally used found them: reported, never silently dropped
        self.others: dict[str, list[tuple[int, int, str | None]]] = {}
        #: the Patients without an id (file, line): not screened, reported
        self.no_id: list[tuple[int, int]] = []

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.parts_dir, ignore_errors=True)

    # --- 1 and 2: lines, views, keep ---------------------------------------------------------
    def prepare(self) -> InputReport:
        con = self.con
        con.execute("CREATE TABLE codes (kind VARCHAR, system VARCHAR, code VARCHAR)")
        con.executemany("INSERT INTO codes VALUES (?, ?, ?)", list(code_rows()))
        con.execute(f"CREATE TABLE prefix_lengths AS {PREFIX_LENGTHS}")
        con.execute("CREATE TABLE med_refs (medication VARCHAR, patient VARCHAR)")
        con.execute("CREATE TABLE patient_part (patient VARCHAR, pno INTEGER, part INTEGER)")
        # the Patients first: their ids decide the parts every type's text is written to. A
        # type's kept text is fetched on a thread of its own while DuckDB reads the next type
        # (numpy, file writes and DuckDB all release the GIL)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kept-text") as pool:
            jobs = {}
            for t in self._order():
                if not self._flatten_typed(t):
                    self._general(t)
                elif t != "Medication":
                    # each file's kept line numbers are fetched by the thread, on a cursor of
                    # its own, as it gets to the file: one file's at a time in memory
                    cursor = self.con.cursor()
                    wanted = self._wanted(t, cursor)
                    jobs[t] = (cursor, pool.submit(self._take_text, t, wanted))
            for t, (cursor, job) in jobs.items():
                took = job.result()
                cursor.close()
                self._took_text(t, took)
        self._keep()
        for t in self.types:
            if t not in self.texts:
                self._write_kept(t)
        self._report_others()
        order = {f.name: f.ordinal for f in self.files}
        self.report.malformed.sort(key=lambda m: (order[m["file"]], m["line"]))
        return self.report

    def _order(self) -> list[str]:
        """The Patients first, then the largest types first: the text thread's last job, which
        nothing else overlaps, is then a small one."""
        size = {
            t: sum(f.path.stat().st_size for f in self.files if f.type == t) for t in self.types
        }
        return sorted(self.types, key=lambda t: (t != "Patient", -size[t], t))

    def _general(self, t: str) -> None:
        """The type's kept rows by the general plan."""
        self._flatten(t)
        kind = "json_extract_string(resource, '$.resourceType')"
        self.others[t] = self.con.execute(
            f"SELECT file, line, {kind} FROM src_{t} WHERE {kind} IS DISTINCT FROM {_lit(t)}"
        ).fetchall()
        if t == "Patient":
            self._no_id("flat_Patient")
            self._cut_parts("SELECT id FROM flat_Patient")
        self._keep_type(t, f"flat_{t}")

    def _no_id(self, flat: str) -> None:
        """Each Patient without an id reported (one per plan: the last one run counts)."""
        self.no_id = self.con.execute(NO_ID_SQL.format(flat=flat)).fetchall()

    def _report_others(self) -> None:
        names = {f.ordinal: f.name for f in self.files}
        self.report.malformed += [{"file": names[f], "line": n, "message": other_type(found, t)}
                                  for t, rows in self.others.items()
                                  for f, n, found in rows]  # fmt: skip
        self.report.malformed += [{"file": names[f], "line": n, "message": NO_PATIENT_ID}
                                  for f, n in self.no_id]  # fmt: skip

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
        """SQL: kept rows ``(type, id, patient, file, line)`` as the keep files hold them: the
        patient as its number (``patient_part``), or, for a kept line whose subject is no
        Patient of the export, none and its reference (``stray``). Not DISTINCT: a hash table
        of every kept row would grow with the export; ``_wanted`` drops the repeats."""
        return (
            "SELECT k.file, k.line, p.pno, CASE WHEN p.pno IS NULL THEN k.patient END AS stray "
            f"FROM ({rows}) k LEFT JOIN patient_part p ON p.patient = k.patient"
        )

    def _keep_path(self, t: str) -> Path:
        return self.parts_dir / "keep" / f"{t}.parquet"

    def _copy(self, sql: str, path: Path, con: Any = None) -> None:
        """The rows of ``sql`` written to the Parquet file ``path`` as DuckDB makes them (a
        query's rows, never all held in memory at once)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        (con or self.con).execute(f"COPY ({sql}) TO {_lit(str(path))} (FORMAT parquet)")

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

        self._write_lines(t)
        self._source(t, checked=False)
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
        # a scan numbered by record (WITH ORDINALITY) runs on one DuckDB thread: with more,
        # the type's files are read side by side, each on a cursor of its own
        groups = [[f] for f in files] if self.threads > 1 and len(files) > 1 else [files]
        sqls = [compile_typed_ndjson(views()[t], g, max_line=MAX_LINE, other_types=True)
                for g in groups]  # fmt: skip
        # Medications are kept by what the later types name: their line numbers are checked
        # first, on their own (a small type)
        if None in sqls or (t == "Medication" and self._any_odd(t)):
            return False
        try:
            flat = self._read_typed(t, [s for s in sqls if s is not None])
        except duckdb.Error:
            return False
        if self._one(f"SELECT count(*) FROM {flat} WHERE __sof_odd"):
            return False
        self.others[t] = self.con.execute(f"SELECT DISTINCT file, line, __sof_type FROM {flat} "
                                          "WHERE __sof_other").fetchall()  # fmt: skip
        own = f"(SELECT * FROM {flat} WHERE NOT __sof_other)"
        if t == "Patient":
            self._no_id(own)
            self._cut_parts(f"SELECT id FROM {own}")
        # the type's keep file is used once its text is fetched (``_took_text``); the general
        # plan writes it again if not
        self._keep_type(t, own)
        return True

    def _read_typed(self, t: str, sqls: list[str]) -> str:
        """The candidate rows of each query in ``sqls`` (one per file, or one for all), the
        queries run side by side on up to the connection's threads, written to Parquet as they
        are read (at 100,000 patients the Observations' are 2 million rows: held in memory,
        they made the peak grow with the export); returns the SQL that reads them."""
        folder = self.parts_dir / "candidates" / t
        paths = [folder / f"{i}.parquet" for i in range(len(sqls))]
        if len(sqls) == 1:
            self._copy(candidates_sql(t, f"({sqls[0]})"), paths[0])
        else:

            def read(path: Path, sql: str) -> None:
                with self.con.cursor() as cursor:
                    self._copy(candidates_sql(t, f"({sql})"), path, cursor)

            with ThreadPoolExecutor(max_workers=self.threads) as pool:
                for job in [pool.submit(read, p, q) for p, q in zip(paths, sqls, strict=True)]:
                    job.result()
        return "read_parquet([" + ", ".join(_lit(str(p)) for p in paths) + "])"

    def _any_odd(self, t: str) -> bool:
        """Whether a line of the type's files does not start with "{" (perhaps blank: not a
        record, so the record numbers would not be line numbers)."""
        return any(first_odd(f) is not None for f in self.files if f.type == t)

    def _wanted(self, t: str, con: Any = None) -> Iterator[Wanted]:
        """Per file of the type: the line numbers its keep file names (ascending, each with a
        patient once), their patients."""
        sql = (f"SELECT line, pno FROM read_parquet({_lit(str(self._keep_path(t)))}) "
               "WHERE file = ? AND pno IS NOT NULL ORDER BY line, pno")  # fmt: skip
        for f in self.files:
            if f.type == t:
                rows = (con or self.con).execute(sql, [f.ordinal]).fetchnumpy()
                yield f, *_once(rows["line"].astype("int64"), rows["pno"].astype("int64"))

    def _take_text(self, t: str, wanted: Iterable[Wanted]) -> int | None:
        """(On the text thread, with its own cursor.) The lines ``wanted`` written to
        ``kept_text``, each file read once as bytes, which also checks that every line up to
        the last kept one starts with "{"; their number, or None (and the type's text dropped)
        when one does not: then the record numbers may not be line numbers."""
        try:
            return self._write_text(t, wanted, strict=True)
        except OddLine:
            self.kept_text.drop(t)
            return None

    def _took_text(self, t: str, took: int | None) -> None:
        """The schema-read plan's kept lines counted once their text is written, or, when the
        line numbers were not record numbers, the type's kept rows by the general plan (its
        medicines' references are the same: joined with DISTINCT)."""
        if took is None:
            self._general(t)
            return
        self.texts.add(t)
        self._count(t, took)

    def _count(self, t: str, kept: int) -> None:
        if kept:
            self.report.kept[t] = kept

    def _write_kept(self, t: str) -> None:
        """The type's kept lines (by its keep file) written to ``kept_text``: for the general
        plan and the Medications, once every type's kept rows are known."""
        try:
            self._count(t, self._write_text(t, self._wanted(t), strict=False))
        except OddLine as exc:
            message = f"{t}: {exc}: the file changed while it was screened; screen it again"
            raise BulkError("bulk_input_changed", message) from exc

    def _write_text(self, t: str, wanted: Iterable[Wanted], *, strict: bool) -> int:
        writer = self.kept_text.writer(t)
        written = 0
        for f, lines, pnos in wanted:
            written += len(lines)
            for got in pick(f, lines, strict=strict):
                writer.add(pnos[got.lo : got.hi], f.ordinal, lines[got.lo : got.hi], got)
        writer.flush()
        return written

    def _write_lines(self, t: str) -> None:
        """``lines_<Type>``: the type's non-blank lines for the general plan, as ``lines``
        numbers them, through Parquet (DuckDB reads it as it needs it: it may be far larger
        than memory); a line that is not UTF-8 is reported (it cannot be JSON) and skipped."""
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

        path = self.parts_dir / "lines" / f"{t}.parquet"
        path.parent.mkdir(exist_ok=True)
        schema = pa.schema([("file", pa.int32()), ("line", pa.int64()), ("resource", pa.string())])
        with pq.ParquetWriter(path, schema) as out:
            for f in self.files:
                if f.type == t:
                    for batch in self._line_batches(f):
                        out.write_table(pa.Table.from_pydict(batch, schema), LINE_GROUP)
        self.con.execute(f"CREATE OR REPLACE VIEW lines_{t} AS SELECT file, line, resource "
                         f"FROM read_parquet({_lit(str(path))})")  # fmt: skip

    def _line_batches(self, f: ExportFile) -> Iterator[dict[str, list[Any]]]:
        batch: dict[str, list[Any]] = {"file": [], "line": [], "resource": []}
        for c in chunks(f):
            for i in range(len(c)):
                raw = c.line(i)
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.report.malformed.append({"file": f.name, "line": c.first + i,
                                                  "message": NOT_UTF8})  # fmt: skip
                    continue
                batch["file"].append(f.ordinal)
                batch["line"].append(c.first + i)
                batch["resource"].append(text)
            if len(batch["line"]) >= LINE_BATCH:
                yield batch
                batch = {"file": [], "line": [], "resource": []}
        if batch["line"]:
            yield batch

    def _malformed(self, t: str) -> None:
        names = {f.ordinal: f.name for f in self.files}
        rows = self.con.execute(
            f"SELECT file, line FROM lines_{t} WHERE resource IS NOT NULL "
            "AND trim(resource) <> '' AND NOT json_valid(resource) ORDER BY file, line"
        ).fetchall()
        self.report.malformed += [{"file": names[f], "line": n,
                                   "message": NOT_JSON}
                                  for f, n in rows]  # fmt: skip

    def _view_sql(self, t: str) -> str:
        from clotsafe.fhir.sof import compile_view

        return compile_view(views()[t], dialect="duckdb", source=f"src_{t}",
                            carry=("file", "line"))  # fmt: skip

    def _keep_type(self, t: str, flat: str) -> None:
        """The type's kept rows (``keep_sql`` over its view rows ``flat``) into its keep file
        (and the Medications its medicines name into ``med_refs``), then its view rows are
        dropped; the Medications' are kept for ``_keep``."""
        if t != "Medication":
            sql = self._compact(keep_sql(t, flat, distinct=False))
            self._copy(sql, self._keep_path(t))
        if t in MEDICINE_TYPES:
            self.con.execute("INSERT INTO med_refs " + medicine_refs_sql(flat))
        if t == "Medication":
            self.medications = flat
            return
        self._drop_flat(t, flat)

    def _drop_flat(self, t: str, flat: str) -> None:
        if flat == f"flat_{t}":
            self.con.execute(f"DROP TABLE {flat}")
        shutil.rmtree(self.parts_dir / "candidates" / t, ignore_errors=True)

    def _keep(self) -> None:
        """The Medications the kept medicines name into their keep file; the report's
        counts of patients and of kept lines with no Patient."""
        con = self.con
        if self.medications is not None:
            sql = self._compact(medication_keep_sql(self.medications, "med_refs"))
            self._copy(sql, self._keep_path("Medication"))
            self._drop_flat("Medication", self.medications)
        r = self.report
        r.patients = self._one("SELECT count(*) FROM patient_part")
        keeps = ", ".join(_lit(str(self._keep_path(t))) for t in self.types)
        if keeps:
            r.without_patient = self._one(
                f"SELECT count(*) FROM (SELECT DISTINCT file, line, stray FROM "
                f"read_parquet([{keeps}]) WHERE pno IS NULL)"
            )
        con.execute("DROP TABLE med_refs")

    def _one(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    # --- 3: the groups -------------------------------------------------------------------------
    def ranges(self, size: int) -> Iterator[PatientRange]:
        """The patients in id order, ``size`` at a time (within a part), with their ids; each
        range reads its patients' lines itself (``PatientRange.groups``: in a worker too)."""
        for part in range(self.parts):
            ids = [r[0] for r in self.con.execute(
                "SELECT patient FROM patient_part WHERE part = ? ORDER BY pno", [part]
            ).fetchall()]  # fmt: skip
            base = part * self.part_patients
            for lo in range(0, len(ids), size):
                yield PatientRange(self.kept_text.directory, self.part_patients, part,
                                   base + lo, tuple(ids[lo : lo + size]))  # fmt: skip

    def groups(self) -> Iterator[PatientGroup]:
        """Each patient's kept lines, patients by id, lines in export order: part after part,
        the part's lines of every type sorted by patient, file and line."""
        for r in self.ranges(self.part_patients):
            yield from r.groups()
