"""``clotsafe bulk screen DIR --on DATE --out OUT``: every patient of a bulk export, screened.

SQL to filter, flatten and group (DuckDB here, or Spark: ``screen_spark``), then the UNCHANGED
per-patient reader (``fhir.ehr``) and engine (the Screener) on each patient's few remaining
resources (``screen_patient``), then the outputs (``screen_outputs``). There is no second copy
of the rules: the SQL only drops resources the reader would not use. docs/bulk.md.
"""

from __future__ import annotations

import errno
import gc
import multiprocessing
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

import orjson

from clotsafe.fhir.bulk.errors import BulkError, damaged
from clotsafe.fhir.bulk.kept_text import PatientRange
from clotsafe.fhir.bulk.lines import DamagedFile
from clotsafe.fhir.bulk.screen_outputs import OutputWriter, summary, write_summary
from clotsafe.fhir.bulk.screen_patient import Outcome, PatientScreener
from clotsafe.fhir.bulk.screen_progress import Progress
from clotsafe.fhir.bulk.source import ExportFile, export_files
from clotsafe.rules.settings import DEFAULT_SETTINGS, Settings

BLOCK = 200  # patients per block sent to a worker


@dataclass(frozen=True)
class ScreenOptions:
    directory: Path
    out: Path
    at: date
    engine: str = "duckdb"
    workers: int = 1
    settings: Settings = DEFAULT_SETTINGS
    #: DuckDB's memory limit (None: ``screen_duckdb.DEFAULT_MEMORY_LIMIT``)
    memory_limit: str | None = None
    temp_directory: Path | None = None
    spark_master: str | None = None
    #: DuckDB's threads (default: one per core)
    threads: int | None = None


@dataclass
class ScreenResult:
    summary: dict[str, Any]
    tally: Any
    seconds: dict[str, float] = field(default_factory=dict)


def export_meta(directory: Path) -> dict[str, Any]:
    """transactionTime and the request, from manifest.json (else export.json)."""
    for name in ("manifest.json", "export.json"):
        p = directory / name
        if p.is_file():
            try:
                data = orjson.loads(p.read_bytes())
            except orjson.JSONDecodeError as exc:
                raise BulkError("bulk_bad_option", f"{p} is not JSON: {exc}") from None
            if isinstance(data, dict):
                return {"transactionTime": data.get("transactionTime"),
                        "request": data.get("request")}  # fmt: skip
    return {"transactionTime": None, "request": None}


def run_screen(options: ScreenOptions, progress: Progress) -> ScreenResult:
    """Screen the export in ``options.directory`` into ``options.out``."""
    if not options.directory.is_dir():
        raise BulkError("bulk_bad_option", f"{options.directory} is not a directory")
    if options.out.resolve() == options.directory.resolve():
        raise BulkError("bulk_bad_option", f"--out {options.out} is the export's directory: "
                        "give the screening a directory of its own (its decisions.ndjson "
                        "would be taken for a file of the export)")  # fmt: skip
    files = export_files(options.directory)
    meta = {**export_meta(options.directory), "screened_on": options.at.isoformat()}
    timer = _Timer()
    writer = OutputWriter(options.out)
    progress.stage("views", files=len(files), engine=options.engine)
    try:
        if options.engine == "spark":
            report, total = _spark(options, files, writer, progress, timer)
        else:
            report, total = _duckdb(options, files, writer, progress, timer)
    except BaseException:
        writer.abort()
        raise
    progress.stage("outputs")
    meta.update(_meta(options, files, report, timer))
    data = summary(writer.tally, meta)
    try:
        writer.close()
        write_summary(options.out, data, writer.tally)
    except OSError as exc:
        # no summary.json is how a reader tells an unfinished screening: none half-written
        (options.out / "summary.json").unlink(missing_ok=True)
        raise io_error(exc, options) from exc
    progress.stage("done", patients=total)
    return ScreenResult(data, writer.tally, dict(timer.seconds))


def _meta(options: ScreenOptions, files: list[ExportFile], report: Any, timer: _Timer
          ) -> dict[str, Any]:  # fmt: skip
    return {
        "input": {"files": [f.name for f in files], **report.to_json()},
        "engine": options.engine,
        "workers": options.workers,
        "seconds": {k: round(v, 3) for k, v in timer.seconds.items()},
    }


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self.t
        self.t = now


def _duckdb(options: ScreenOptions, files: list[ExportFile], writer: OutputWriter,
            progress: Progress, timer: _Timer) -> tuple[Any, int]:  # fmt: skip
    import duckdb

    from clotsafe.fhir.bulk.screen_duckdb import DEFAULT_MEMORY_LIMIT, DuckDbEngine

    limit = options.memory_limit or DEFAULT_MEMORY_LIMIT
    names = [f.name for f in files]
    try:
        engine = DuckDbEngine(files, memory_limit=limit, temp_directory=options.temp_directory,
                              threads=options.threads)  # fmt: skip
    except OSError as exc:
        raise io_error(exc, options) from exc
    try:
        with worker_pool(options.at, names, options.settings, options.workers) as pool:
            report = _prepared(engine, progress, timer)
            blocks = screen_ranges(engine.ranges(BLOCK), options.at, names, options.settings,
                                   pool=pool, in_flight=2 * options.workers)  # fmt: skip
            _write(blocks, writer, progress, report.patients)
            timer.lap("screen")
    except duckdb.OutOfMemoryException as exc:
        raise BulkError("bulk_bad_option", f"DuckDB needed more memory than --memory-limit "
                        f"{limit} and could not spill the rest: run again with a larger "
                        "--memory-limit") from exc  # fmt: skip
    except DamagedFile as exc:
        raise damaged(str(exc)) from exc
    except (duckdb.IOException, OSError) as exc:
        raise io_error(exc, options) from exc
    finally:
        engine.close()
    return report, report.patients


def _prepared(engine: Any, progress: Progress, timer: _Timer) -> Any:
    """The engine's SQL stage (``prepare``), its malformed lines told, the stage timed."""
    report = engine.prepare()
    for m in report.malformed:
        progress.warn(f"{m['file']} line {m['line']}: {m['message']}")
    timer.lap("views")
    progress.stage("screen", patients=report.patients)
    return report


def _write(blocks: Iterable[list[Outcome]], writer: OutputWriter, progress: Progress,
           total: int) -> None:  # fmt: skip
    done = 0
    for block in blocks:
        done += writer.write(block)
        progress.patients(done, total)


def io_error(exc: BaseException, options: ScreenOptions) -> BulkError:
    """``bulk_io_error`` for a file that could not be written or read (a full disk, most
    likely: the temporary directory holds the candidate and kept rows and the kept lines'
    text), in words: DuckDB's own message carries JSON, never shown."""
    temp = options.temp_directory or "the system's temporary directory"
    return BulkError("bulk_io_error", f"a file could not be written or read ({_reason(exc)}). "
                     f"If a disk is full, free space on it or move what is written there: the "
                     f"temporary files go to {temp} (--temp-dir), the outputs to {options.out} "
                     "(--out)")  # fmt: skip


def _reason(exc: BaseException) -> str:
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or '"errno":"28"' in str(exc):
        return "no space left on the device"
    if getattr(exc, "errno", None) == errno.EFBIG:
        return "a file grew past the largest size allowed"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f": {exc.filename}" if exc.filename else "")
    found = re.search(r'"exception_message":"((?:[^"\\]|\\.)*)"', str(exc))
    if found:
        return str(orjson.loads(f'"{found.group(1)}"'))
    return str(exc).splitlines()[0].removeprefix("IO Error: ") if str(exc) else type(exc).__name__


def _spark(options: ScreenOptions, files: list[ExportFile], writer: OutputWriter,
           progress: Progress, timer: _Timer) -> tuple[Any, int]:  # fmt: skip
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped, unused-ignore]

    from clotsafe.fhir.bulk.screen_spark import read_failure

    engine = _spark_engine(options, files)
    try:
        report = _prepared(engine, progress, timer)
        _write(_blocks(engine.outcomes(), BLOCK), writer, progress, report.patients)
    except Py4JJavaError as exc:
        error = read_failure(exc, files)
        if error is None:
            raise
        raise error from exc
    timer.lap("screen")
    return report, report.patients


def _spark_engine(options: ScreenOptions, files: list[ExportFile]) -> Any:
    """The Spark engine, or ``bulk_bad_option`` when Spark does not start (before, a Java
    stack trace and a Python traceback)."""
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped, unused-ignore]
    from pyspark.errors import PySparkRuntimeError

    from clotsafe.fhir.bulk.screen_spark import SparkEngine

    master = options.spark_master or "local[2]"
    try:
        return SparkEngine(files, options.at, settings=options.settings, master=master)
    except PySparkRuntimeError as exc:
        why = ("its Java side stopped at once: a --spark-master that is not local[N], "
               "spark://HOST:PORT, k8s://... or yarn, or no Java 17 (java -version)")  # fmt: skip
        raise BulkError("bulk_bad_option", f"Spark did not start: {why}") from exc
    except Py4JJavaError as exc:
        why = (f"no master at {master} took the application (is the cluster up, the URL "
               "right, and this machine allowed to reach it?)")  # fmt: skip
        raise BulkError("bulk_bad_option", f"Spark did not start: {why}") from exc


# --- the Python stage, in this process or in --workers processes (order kept) -----------------


@contextmanager
def worker_pool(at: date, names: list[str], settings: Settings, workers: int
                ) -> Iterator[Pool | None]:  # fmt: skip
    """``workers`` processes for the Python stage (None: it runs in this process). They are
    started before the SQL stage, so that clotsafe and its libraries are imported for them
    (:func:`_context`: once, ~0.4-0.6 s of CPU) while DuckDB reads the export, which keeps
    1.7 of 2 cores busy, instead of the screening waiting for the import when the SQL is
    done."""
    if workers <= 1:
        yield None
        return
    ctx = _context()
    with ctx.Pool(workers, initializer=_init, initargs=(at, names, settings)) as pool:
        yield pool


def _context() -> Any:
    """``forkserver`` where the system has it: one server process imports the main module
    (the ``clotsafe`` command: ``clotsafe.cli``, 0.27 s of CPU) and this module with the reader,
    the engine and their libraries (0.37 s) once, and each worker is forked from it with them
    loaded, where ``spawn`` paid both in every worker. Unlike a plain ``fork`` of this
    process, it is safe while other threads run here (a rich progress bar's; DuckDB's).
    ``spawn`` elsewhere."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # ignored once this process's server runs (its first pool started it)
    ctx.set_forkserver_preload(["__main__", __name__])
    return ctx


def screen_ranges(ranges: Iterable[PatientRange], at: date, names: list[str],
                  settings: Settings, *, pool: Pool | None = None,
                  in_flight: int = 4) -> Iterator[list[Outcome]]:  # fmt: skip
    """Each range's Outcomes, in order; with a ``pool`` (:func:`worker_pool`), in its
    processes, at most ``in_flight`` ranges at a time. A worker reads its range's lines
    itself: the main process sends a range (a few ids) and receives the outcomes, and no
    patient's lines are copied to it."""
    if pool is None:
        screener = PatientScreener(at, names, settings)
        for r in ranges:
            yield screener.screen(r.groups())
        return
    pending: deque[AsyncResult[list[Outcome]]] = deque()
    for r in ranges:
        pending.append(pool.apply_async(_work, (r,)))
        if len(pending) >= in_flight:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def _blocks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while block := list(islice(it, size)):
        yield block


_WORKER: PatientScreener | None = None


#: container objects allocated (net) before the worker's garbage collector runs: a patient's
#: resources are ~2,000 dicts and lists, none in a cycle, all freed when the patient is done,
#: so Python's 700 made it run every few patients for nothing (as in the CDS service:
#: ``clotsafe.web.cds.run.GC_YOUNG``). Cyclic garbage is still collected.
GC_YOUNG = 50_000


def _init(at: date, names: list[str], settings: Settings) -> None:
    """A worker's start: its screener, and what is alive now (the code lists, the rules)
    moved out of the collector's reach, which then runs every ``GC_YOUNG`` allocations."""
    global _WORKER
    _WORKER = PatientScreener(at, names, settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


def _work(r: PatientRange) -> list[Outcome]:
    if _WORKER is None:
        raise RuntimeError("a bulk screen worker ran before its initializer")
    return _WORKER.screen(r.groups())
