"""``clotsafe bulk``: FHIR Bulk Data (docs/bulk.md). ``export`` fetches a Group's or patients' data.

Exit status of ``bulk export``: 0 every file safe on disk; 1 bad local input (key, options, DIR);
2 usage error; 3 the server refused or failed (the message says what; DIR keeps what arrived);
4 a file's line count differs from the manifest. Progress goes to standard error (rich when it
is a terminal, plain lines otherwise); the summary to standard output. Heavy imports (httpx,
PyJWT, cryptography) wait until the command runs, so ``clotsafe --help`` stays fast.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click
import orjson

from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.bulk.progress import Reporter

if TYPE_CHECKING:
    from clotsafe.fhir.bulk.export import ExportOptions, ExportResult
    from clotsafe.fhir.bulk.timing import Clock

DEFAULT_TYPES = "Patient,Condition,MedicationRequest,MedicationStatement,Observation,Procedure"
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{0,63}")
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@dataclass(frozen=True)
class BulkDeps:
    """What tests pass in (``CliRunner().invoke(main, args, obj=BulkDeps(...))``)."""

    http: Any = None
    clock: Clock | None = None


@click.group()
def bulk() -> None:
    """FHIR Bulk Data: export a population's records from an EHR (docs/bulk.md)."""


@bulk.command("export")
@click.option("--fhir-server", required=True, metavar="URL", help="The FHIR server's base URL.")
@click.option("--group", metavar="ID", help="Export the members of this Group.")
@click.option(
    "--patient", "patients", multiple=True, metavar="ID", help="Export this patient (repeat)."
)
@click.option(
    "--client-id", required=True, metavar="ID", help="The client id registered with the server."
)
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Private key: PEM (RSA or EC P-384) or JWK/JWKS JSON.",
)
@click.option("--kid", default=None, help="Key id (needed for a PEM key; a JWK carries its own).")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the files (empty, or the one being resumed).",
)
@click.option(
    "--type", "types", multiple=True, metavar="T1,T2", help=f"Resource types [{DEFAULT_TYPES}]."
)
@click.option(
    "--since", default=None, metavar="INSTANT", help="Only resources changed after this instant."
)
@click.option(
    "--type-filter",
    "type_filters",
    multiple=True,
    metavar="QUERY",
    help="A _typeFilter such as MedicationRequest?status=active (repeat).",
)
@click.option(
    "--scope", default=None, help="OAuth scope [system/*.rs or system/*.read, as advertised]."
)
@click.option(
    "--resume", default=None, metavar="STATUS_URL", help="Continue an interrupted export."
)
@click.option(
    "--max-retries",
    default=6,
    show_default=True,
    type=click.IntRange(0, 50),
    help="Retries in a row on 429, 5xx or network errors.",
)
@click.option(
    "--max-wait-hours",
    default=168.0,
    show_default=True,
    type=click.FloatRange(0.01),
    help="Give up waiting for the export after this long.",
)
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
@click.pass_context
def export(ctx: click.Context, /, fmt: str, **opts: Any) -> None:
    """Export a Group's or listed patients' data (SMART Backend Services, $export) into --out."""
    from clotsafe.cli import require_extra

    require_extra("fhir", "httpx", "jwt", "cryptography")
    from clotsafe.fhir.bulk.export import run_export

    deps = ctx.find_object(BulkDeps) or BulkDeps()
    try:
        options = _options(opts)
        with _reporter(sys.stderr) as reporter:
            result = run_export(options, http=deps.http, clock=deps.clock, reporter=reporter)
    except BulkError as exc:
        _fail(exc, fmt)
    click.echo(_render_summary(result, options.out, fmt), nl=False)


def _fail(exc: BulkError, fmt: str) -> NoReturn:
    text = orjson.dumps(exc.to_dict()).decode() if fmt == "json" else f"error: {exc}"
    click.echo(text, err=True)
    sys.exit(exc.exit_code)


def _options(opts: dict[str, Any]) -> ExportOptions:
    from clotsafe.fhir.bulk.export import ExportOptions
    from clotsafe.fhir.bulk.kickoff import ExportRequest

    request = ExportRequest(
        group=_group(opts["group"], opts["patients"]),
        patients=tuple(_patient(p) for p in opts["patients"]),
        types=_types(opts["types"]),
        since=_since(opts["since"]),
        type_filters=tuple(opts["type_filters"]),
    )
    return ExportOptions(
        fhir_server=opts["fhir_server"],
        request=request,
        client_id=opts["client_id"],
        key_path=opts["key_path"],
        out=opts["out"],
        kid=opts["kid"],
        scope=opts["scope"],
        resume=opts["resume"],
        max_retries=opts["max_retries"],
        max_wait=opts["max_wait_hours"] * 3600,
    )


def _bad(message: str) -> BulkError:
    return BulkError("bulk_bad_option", message)


#: a size DuckDB takes as a memory limit: 256MB, 1.5GB, 2GiB (not "-1": no limit at all)
MEMORY_SIZE = re.compile(r"[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def _memory_limit(value: str | None) -> str | None:
    if value is not None and not MEMORY_SIZE.fullmatch(value.strip()):
        raise _bad(f"--memory-limit {value!r} is not a size such as 256MB or 2GB")
    return value


def _group(group: str | None, patients: tuple[str, ...]) -> str | None:
    if bool(group) == bool(patients):
        raise click.UsageError("give either --group ID or one or more --patient ID")
    if group is not None and not FHIR_ID.fullmatch(group):
        raise _bad(f"--group {group!r} is not a FHIR id (letters, digits, - and ., up to 64)")
    return group


def _patient(value: str) -> str:
    pid = value.removeprefix("Patient/")
    if not FHIR_ID.fullmatch(pid):
        raise _bad(f"--patient {value!r} is not a FHIR id (letters, digits, - and ., up to 64)")
    return pid


def _types(values: tuple[str, ...]) -> tuple[str, ...]:
    names = [t.strip() for v in (values or (DEFAULT_TYPES,)) for t in v.split(",") if t.strip()]
    for name in names:
        if not TYPE_NAME.fullmatch(name):
            raise _bad(f"--type {name!r} is not a FHIR resource type name")
    return tuple(dict.fromkeys(names))


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ok = bool(INSTANT.fullmatch(value)) and datetime.fromisoformat(value) is not None
    except ValueError:
        ok = False
    if not ok:
        raise _bad(f"--since {value!r} is not a FHIR instant such as 2026-01-31T00:00:00Z")
    return value


def _render_summary(result: ExportResult, out: Path, fmt: str) -> str:
    from clotsafe.fhir.bulk.summary import summary, summary_text

    data = summary(result, out)
    if fmt == "json":
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    return summary_text(data)


def _reporter(stream: IO[str]) -> AbstractContextManager[Reporter]:
    """The progress reporter: rich on a terminal, plain lines otherwise."""
    return _rich(stream) if stream.isatty() else nullcontext(PlainReporter(stream))


class PlainReporter(Reporter):
    """One line per event on standard error; no byte-level noise."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def say(self, text: str) -> None:
        print(f"bulk: {text}", file=self.stream, flush=True)

    def kicked_off(self, status_url: str) -> None:
        self.say(f"export status URL {status_url} (keep it for --resume)")

    def waiting(self, status: int, progress: str | None, seconds: float) -> None:
        what = f"in progress ({progress})" if progress else "in progress"
        what = what if status == 202 else f"the server answered HTTP {status}"
        self.say(f"{what}; next check in {seconds:.0f} s")

    def manifest(self, files: int) -> None:
        self.say(f"export ready: {files} file(s) to fetch")

    def file_done(self, name: str, lines: int, skipped: bool) -> None:
        self.say(f"{name}: {lines:,} lines" + (" (already downloaded)" if skipped else ""))

    def file_failed(self, name: str, message: str) -> None:
        self.say(f"{name}: NOT complete: {message}")

    def note(self, message: str) -> None:
        self.say(message)


class RichReporter(PlainReporter):
    """The same lines, above a spinner showing X-Progress and one bar per file."""

    def __init__(self, stream: IO[str], progress: Any) -> None:
        super().__init__(stream)
        self.progress = progress
        self.status = progress.add_task("starting the export", total=None)
        self.tasks: dict[str, Any] = {}

    def say(self, text: str) -> None:
        self.progress.console.print(f"bulk: {text}", markup=False, highlight=False)

    def waiting(self, status: int, progress: str | None, seconds: float) -> None:
        text = f"export in progress {progress or ''} (next check in {seconds:.0f} s)"
        self.progress.update(self.status, description=text)
        if status != 202:
            super().waiting(status, progress, seconds)

    def manifest(self, files: int) -> None:
        self.progress.update(self.status, description=f"downloading {files} file(s)")
        super().manifest(files)

    def file_started(self, name: str, size: int | None) -> None:
        self.tasks[name] = self.progress.add_task(name, total=size)

    def file_done(self, name: str, lines: int, skipped: bool) -> None:
        self._drop(name.removesuffix(".gz"))
        super().file_done(name, lines, skipped)

    def file_failed(self, name: str, message: str) -> None:
        self._drop(name)
        super().file_failed(name, message)

    def _drop(self, name: str) -> None:
        if name in self.tasks:
            self.progress.remove_task(self.tasks.pop(name))

    def file_bytes(self, name: str, received: int) -> None:
        if name in self.tasks:
            self.progress.advance(self.tasks[name], received)


@contextmanager
def _rich(stream: IO[str]) -> Iterator[Reporter]:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=True) as progress:
        yield RichReporter(stream, progress)


@bulk.command("screen")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--on",
    "on",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Screening date YYYY-MM-DD (time windows count back from it).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for decisions.ndjson, worklist.csv, risk-assessments.ndjson, summary.json.",
)
@click.option(
    "--engine", type=click.Choice(("duckdb", "spark")), default="duckdb", show_default=True
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes for the Python stage (reader and engine); output order is kept.",
)
@click.option(
    "--progress",
    "progress_mode",
    type=click.Choice(("auto", "json", "none")),
    default="auto",
    show_default=True,
    help="Progress on stderr: auto = rich on a terminal, JSON lines otherwise.",
)
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False),
    help="Clinic settings TOML (may only make the policy stricter).",
)
@click.option(
    "--memory-limit",
    default=None,
    help="DuckDB's memory limit (it spills to --temp-dir beyond it) [256MB].",
)
@click.option(
    "--temp-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where DuckDB spills and the kept lines wait (deleted at the end) "
    "[system temp/clotsafe-duckdb-PID].",
)
@click.option("--spark-master", default=None, help="With --engine spark: the master [local[2]].")
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
def screen(directory: Path, on: datetime, out: Path, engine: str, workers: int,
           progress_mode: str, settings_path: str | None, memory_limit: str | None,
           temp_dir: Path | None, spark_master: str | None, fmt: str) -> None:  # fmt: skip
    """Screen every patient of a bulk export in DIRECTORY (files of `bulk export`) into --out."""
    from clotsafe.cli import require_extra

    require_extra("bulk", *(("pyspark", "pyarrow", "pandas") if engine == "spark" else ("duckdb",)))
    from clotsafe.fhir.bulk.screen import ScreenOptions, run_screen
    from clotsafe.fhir.bulk.screen_outputs import summary_text
    from clotsafe.fhir.bulk.screen_progress import progress_for

    progress = progress_for(progress_mode, sys.stderr)
    try:
        options = ScreenOptions(directory=directory, out=out, at=on.date(), engine=engine,
                                workers=workers, settings=_screen_settings(settings_path),
                                memory_limit=_memory_limit(memory_limit), temp_directory=temp_dir,
                                spark_master=spark_master)  # fmt: skip
        result = run_screen(options, progress)
    except BulkError as exc:
        progress.close()
        _fail(exc, fmt)
    progress.close()
    if fmt == "json":
        click.echo(orjson.dumps(result.summary, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(summary_text(result.summary, result.tally), nl=False)


def _screen_settings(path: str | None) -> Any:
    from clotsafe.cli import _settings  # the same reading and errors as `clotsafe screen`

    return _settings(path)
