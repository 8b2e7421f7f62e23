"""The command line: screen, score, rules, schema, serve, createclinic (docs/cli.md).

Exit status: 0 success; 1 bad input (an intake, a batch line, a settings file) or a missing
optional extra; 2 usage error.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, NoReturn

import click
import orjson

from clotsafe.domain.errors import ClotsafeInputError, IntakeError
from clotsafe.domain.fastintake import FastParser
from clotsafe.domain.intake import intake_json_schema
from clotsafe.knowledge import clearable_rules
from clotsafe.rules import DEFAULT_SETTINGS, Settings, load_settings_file
from clotsafe.rules.fastbatch import BatchStats, screen_ndjson
from clotsafe.rules.screener import Screener, intake_json, reference_parser

FORMATS = ("text", "json", "markdown")

#: What each optional extra (pyproject.toml) brings that a command imports: checked before the
#: command runs, so a plain `pip install clotsafe` ends in a sentence naming the extra, not a
#: traceback. The first extra naming a module is the one suggested for it.
EXTRAS: dict[str, tuple[str, ...]] = {
    "web": ("django", "waitress", "whitenoise", "dj_database_url", "django_htmx", "axes", "csp",
            "django_otp", "ninja", "argon2", "segno"),
    "fhir": ("fhir.resources", "jwt", "httpx"),
    "bulk": ("duckdb", "pyspark", "pyarrow", "pandas"),
}  # fmt: skip


def require_extra(extra: str, *modules: str) -> None:
    """Stop the running command with a clear message when ``extra`` is not installed.

    ``modules`` (default: all of the extra's in EXTRAS) are looked up without being imported.
    Exit status 1, no traceback. For commands outside this module: call it first thing in the
    command's body (``from clotsafe.cli import require_extra``)."""
    missing = [m for m in modules or EXTRAS[extra] if not _importable(m)]
    if missing:
        _missing_extra(extra, missing[0])


def web_setup() -> None:
    """Django set up as ``clotsafe serve`` does (the same data directory and database), for the
    commands of other modules; without the web extra, the message naming it."""
    require_extra("web")
    from clotsafe.web.serve import setup

    setup()


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # its parent package is missing
        return False


def _missing_extra(extra: str, module: str) -> NoReturn:
    ctx = click.get_current_context(silent=True)
    path = " ".join(filter(None, (ctx.command_path, ctx.invoked_subcommand))) if ctx else ""
    command = f"`{path}`" if path else "this command"
    click.echo(f"error: {command} needs the {extra} extra, which is not installed (no module "
               f"{module!r}). Install it with: pip install 'clotsafe[{extra}]'",
               err=True)  # fmt: skip
    sys.exit(1)


def _extra_of(module: str | None) -> str | None:
    """The extra that provides ``module`` (a dotted name, or its top-level package)."""
    for extra, modules in EXTRAS.items():
        for m in modules:
            if module and (module == m or m.startswith(module + ".") or module.startswith(m + ".")):
                return extra
    return None


class _Commands(click.Group):
    """The top-level group: a module of an extra that turns out missing while a command runs
    (one that did not call require_extra) still ends in the message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            extra = _extra_of(exc.name)
            if extra is None:
                raise
            _missing_extra(extra, exc.name or "")


def _settings(path: str | None) -> Settings:
    if path is None:
        return DEFAULT_SETTINGS
    try:
        return load_settings_file(path)
    except ClotsafeInputError as exc:
        _fail(exc, "text")
    except OSError as exc:
        raise click.BadParameter(str(exc), param_hint="--settings") from None


def _fail(exc: ClotsafeInputError, fmt: str) -> NoReturn:
    if fmt == "json":
        click.echo(orjson.dumps(exc.to_dict()).decode(), err=True)
    else:
        for e in exc.errors:
            click.echo(f"error: {e}", err=True)
    sys.exit(1)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clotsafe")
def main() -> None:
    """clotsafe: blood-clot safety screening for massage therapists (decision support)."""


@main.command()
@click.argument("path", type=click.File("rb"))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False),
    help="Clinic settings TOML (may only make the policy stricter).",
)
@click.option(
    "--batch",
    is_flag=True,
    help="PATH is NDJSON: one intake per line in, one decision JSON per line out.",
)
@click.option(
    "--fhir",
    "fhir",
    is_flag=True,
    help="PATH is FHIR: a QuestionnaireResponse, or EHR resources (Bundle or list).",
)
@click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Screening date YYYY-MM-DD for FHIR input (EHR data needs it).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="With --batch: screen in this many processes (output order is kept).",
)
@click.option(
    "--stats",
    is_flag=True,
    help="With --batch: print to stderr how many lines took the fast path and the reference.",
)
@click.option(
    "--reference",
    is_flag=True,
    help="Skip the fast path (pydantic validation, Decision.to_json): for comparisons.",
)
def screen(
    path: IO[bytes],
    fmt: str,
    settings_path: str | None,
    batch: bool,
    fhir: bool,
    on: Any,
    workers: int,
    stats: bool,
    reference: bool,
) -> None:
    """Screen one intake JSON file (PATH may be - for standard input)."""
    if fhir:
        require_extra("fhir", "fhir.resources")
    settings = _settings(settings_path)
    if fhir:
        raw = _intake_from_fhir(path.read(), on.date() if on else None, fmt)
        path = io.BytesIO(raw)
    if batch:
        counts = BatchStats()
        failed = run_batch(path, sys.stdout.buffer, settings, progress=sys.stderr.isatty(),
                           workers=workers, fast=not reference, stats=counts)  # fmt: skip
        if stats:
            click.echo(orjson.dumps({"stats": counts.to_json()}).decode(), err=True)
        sys.exit(1 if failed else 0)
    known = clearable_rules()
    parse = reference_parser(known) if reference else FastParser(known)
    result = next(Screener(settings).screen(intake_json(path.read(), parse=parse)))
    if result.decision is None:
        _fail(result.error or IntakeError(), fmt)
    click.echo(_RENDERERS[fmt](result.decision), nl=False)


def _intake_from_fhir(raw: bytes, on: Any, fmt: str) -> bytes:
    """FHIR JSON -> intake JSON; a key named twice anywhere is refused (duplicate_key). What
    the record held that could not be used goes to standard error, as the CDS card lists it
    under "Not used from the record" (standard output stays the decision)."""
    from clotsafe.fhir.cli_support import intake_and_warnings
    from clotsafe.fhir.errors import fhir_json

    try:
        intake, warnings = intake_and_warnings(fhir_json(raw), on)
    except ClotsafeInputError as exc:
        _fail(exc, fmt)
    if fmt == "json" and warnings:
        click.echo(orjson.dumps({"warnings": [w.to_dict() for w in warnings]}).decode(), err=True)
    elif fmt != "json":
        for w in warnings:
            click.echo(f"warning: {w}", err=True)
    return orjson.dumps(intake)


def _render_json(decision: Any) -> str:
    return orjson.dumps(decision.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"


def _render_text(decision: Any) -> str:
    from clotsafe.render.text import render

    return render(decision)


def _render_markdown(decision: Any) -> str:
    from clotsafe.render.markdown import render

    return render(decision)


_RENDERERS: dict[str, Callable[[Any], str]] = {
    "json": _render_json,
    "text": _render_text,
    "markdown": _render_markdown,
}


def run_batch(
    src: IO[bytes],
    out: IO[bytes],
    settings: Settings,
    *,
    progress: bool,
    workers: int = 1,
    fast: bool = True,
    stats: BatchStats | None = None,
) -> int:
    """Stream NDJSON intakes to NDJSON decisions in the same order; return the failed count.

    ``stats``, when given, receives how many lines took the fast path and the reference."""
    total = BatchStats() if stats is None else stats
    lines = (line for _, line in _lines(src, progress))
    for block, counts in screen_ndjson(lines, settings, workers=workers, fast=fast):
        out.write(block)
        total.add(counts)
    out.flush()
    return total.failed


def _lines(src: IO[bytes], progress: bool) -> Iterator[tuple[int, bytes]]:
    if not progress:
        yield from enumerate(src, start=1)
        return
    from rich.progress import Progress

    with Progress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task("screening", total=None)
        for n, line in enumerate(src, start=1):
            yield n, line
            if n % 1000 == 0:
                bar.update(task, completed=n)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@main.command()
@click.argument("name")
@click.argument("path", required=False, type=click.File("rb"))
@click.option("--items", is_flag=True, help="List the calculator's items and exit.")
@click.option(
    "--format", "fmt", type=click.Choice(("json", "text")), default="text", show_default=True
)
@click.option("--version", "version", default=None, help="Score version (e.g. 2003, 1997).")
@click.option("--bands", default=None, help="Band scheme (e.g. two_tier, accp).")
def score(
    name: str, path: IO[bytes] | None, items: bool, fmt: str, version: str | None, bands: str | None
) -> None:
    """Compute one score (wells_dvt, wells_pe, perc, caprini, padua) from a findings JSON."""
    from clotsafe.cli_score import list_items, run_score

    if items:
        click.echo(list_items(name, fmt, version), nl=False)
        return
    if path is None:
        raise click.UsageError("give PATH (or -) with the findings, or --items")
    click.echo(run_score(name, path, fmt, version, bands), nl=False)


@main.command("rules")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "json", "markdown")),
    default="text",
    show_default=True,
)
def rules_cmd(fmt: str) -> None:
    """List every rule: id, level, when it fires, sources, and whether it is a policy choice."""
    from clotsafe.cli_rules import render_rules

    click.echo(render_rules(fmt), nl=False)


@main.group()
def schema() -> None:
    """Print JSON Schemas of clotsafe's inputs."""


@schema.command("intake")
def schema_intake() -> None:
    """The JSON Schema of the intake JSON (INTAKE.md, with clearances of POLICY §5)."""
    click.echo(orjson.dumps(intake_json_schema(), option=orjson.OPT_INDENT_2).decode())


@main.command()
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--no-demo",
    is_flag=True,
    help="Do not create the demo clinic (a real deployment: see `clotsafe createclinic`).",
)
def serve(port: int, host: str, no_demo: bool) -> None:
    """Run the web app: migrate, create the demo clinic, print the URL and login, serve."""
    require_extra("web")
    from clotsafe.web.serve import run

    with _database():
        run(port=port, host=host, demo=not no_demo)


@main.command()
@click.argument("name")
@click.option("--lead", required=True, metavar="USERNAME", help="The clinic lead's username.")
@click.option(
    "--emergency-number",
    default="911",
    show_default=True,
    help="The number clients are told to call in an emergency (digits, e.g. 999, 112).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the lead's password from the first line of standard input (no prompt).",
)
def createclinic(name: str, lead: str, emergency_number: str, password_stdin: bool) -> None:
    """Create a clinic and its lead (the first login of a real deployment)."""
    require_extra("web")
    from clotsafe.web.serve import prepare

    with _database():
        prepare()
        from clotsafe.web.provision import ProvisionError, check_new, create_clinic

        try:
            check_new(name, lead, emergency_number)
            password = _new_password(password_stdin)
            create_clinic(name, lead, password, emergency_number=emergency_number)
        except ProvisionError as exc:
            for message in exc.messages:
                click.echo(f"error: {message}", err=True)
            sys.exit(1)
    click.echo(f"Created the clinic {name.strip()!r} with its lead {lead!r} (emergency number "
               f"{emergency_number}). Start the server with `clotsafe serve --no-demo` and log "
               f"in as {lead!r}.")  # fmt: skip


@contextmanager
def _database() -> Iterator[None]:
    """A database that cannot be reached or used (CLOTSAFE_DATABASE_URL, the data dir) ends in
    one line naming the problem, exit status 1, not a driver's traceback."""
    from django.db import Error as DatabaseError

    try:
        yield
    except DatabaseError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        click.echo(f"error: the database could not be used: {first} (check "
                   "CLOTSAFE_DATABASE_URL or CLOTSAFE_DATA_DIR; docs/web.md)",
                   err=True)  # fmt: skip
        sys.exit(1)


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt(
        "Password for the lead", hide_input=True, confirmation_prompt="Repeat it"
    )
    return password


@main.group()
def fhir() -> None:
    """FHIR: the intake as a Questionnaire (screen FHIR input with `screen --fhir`)."""


@fhir.command("questionnaire")
def fhir_questionnaire() -> None:
    """Print the intake as a FHIR R4 Questionnaire (linkId = INTAKE.md question id)."""
    require_extra("fhir", "fhir.resources")
    from clotsafe.fhir.cli_support import questionnaire_json

    click.echo(orjson.dumps(questionnaire_json(), option=orjson.OPT_INDENT_2).decode())


from clotsafe.cli_bulk import bulk  # noqa: E402  (last: it imports only click until `bulk export` runs)

main.add_command(bulk)

from clotsafe.cli_api import api_token  # noqa: E402  (imports only click)
from clotsafe.cli_backup import backup, restore  # noqa: E402  (imports only click)

main.add_command(api_token)
main.add_command(backup)
main.add_command(restore)
