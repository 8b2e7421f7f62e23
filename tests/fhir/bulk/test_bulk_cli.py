"""``clotsafe bulk export`` as an operator runs it: exit codes, streams, no secret anywhere.

Protects: the summary on stdout and progress on stderr (never mixed), the documented exit
codes, and that neither the access token nor the client assertion is ever printed, logged or
written into DIR.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from bulk_fake import BASE, CLIENT_ID, FakeBulkServer, FakeClock
from click.testing import CliRunner

from clotsafe.cli import main
from clotsafe.cli_bulk import BulkDeps, RichReporter, _reporter
from clotsafe.fhir.bulk.errors import BULK_ERROR_CODES

DOCS = Path(__file__).resolve().parents[3] / "docs"


def invoke(server: FakeBulkServer, clock: FakeClock, key: Path, out: Path, *extra: str) -> Any:
    args = [
        "bulk",
        "export",
        "--fhir-server",
        BASE,
        "--client-id",
        CLIENT_ID,
        "--key",
        str(key),
        "--kid",
        "rsa-key-1",
        "--out",
        str(out),
        *extra,
    ]
    if "--patient" not in extra and "--no-group" not in extra:
        args += ["--group", "g1"]
    args = [a for a in args if a != "--no-group"]
    return CliRunner().invoke(main, args, obj=BulkDeps(http=server.client(), clock=clock))


def test_export_prints_summary_on_stdout_and_progress_on_stderr(
    server: FakeBulkServer,
    clock: FakeClock,
    rsa_pem: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Exit 0; X-Progress and per-file lines on stderr; the summary alone on stdout; no secret."""
    caplog.set_level(logging.DEBUG)
    r = invoke(server, clock, rsa_pem, tmp_path / "out")
    assert r.exit_code == 0, r.stderr
    assert "bulk: in progress (40% done); next check in 10 s" in r.stderr
    assert "bulk: Condition.1.ndjson: 4 lines" in r.stderr
    assert "bulk:" not in r.stdout
    assert "Condition" in r.stdout and "6 resources in 2 file(s)" in r.stdout
    assert "The export was deleted on the server." in r.stdout
    secrets = [*server.issued, *server.assertions]
    assert secrets
    written = "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())
    for secret in secrets:
        for where in (r.stdout, r.stderr, caplog.text, written):
            assert secret not in where
            assert secret[:20] not in where


def test_json_summary(
    server: FakeBulkServer, clock: FakeClock, rsa_pem: Path, tmp_path: Path
) -> None:
    """--format json: a machine-readable summary on stdout."""
    r = invoke(server, clock, rsa_pem, tmp_path / "out", "--format", "json")
    data = json.loads(r.stdout)
    assert data["output"]["Patient"] == {"files": 1, "resources": 3}
    assert data["transactionTime"] == "2026-11-30T06:00:00Z" and data["statusDeleted"]


def test_types_given_twice_go_out_as_one_value(
    server: FakeBulkServer, clock: FakeClock, rsa_pem: Path, tmp_path: Path
) -> None:
    """--type Patient,Condition --type Observation → one _type value, in order, no repeats."""
    invoke(
        server,
        clock,
        rsa_pem,
        tmp_path / "out",
        "--type",
        "Patient,Condition",
        "--type",
        "Observation,Patient",
    )
    params = json.loads(server.kickoffs[0].content)["parameter"]
    assert [p["valueString"] for p in params if p["name"] == "_type"] == [
        "Patient,Condition,Observation"
    ]


def test_default_types(
    server: FakeBulkServer, clock: FakeClock, rsa_pem: Path, tmp_path: Path
) -> None:
    """Without --type: the six types the screening reads."""
    invoke(server, clock, rsa_pem, tmp_path / "out")
    params = json.loads(server.kickoffs[0].content)["parameter"]
    (types,) = [p["valueString"] for p in params if p["name"] == "_type"]
    assert types == "Patient,Condition,MedicationRequest,MedicationStatement,Observation,Procedure"


@pytest.mark.parametrize(
    ("setup", "code", "needle"),
    [
        ("mismatch", 4, "[bulk_count_mismatch]"),
        ("failed", 3, "[bulk_export_failed]"),
        ("since", 1, "[bulk_bad_option]"),
        ("key", 1, "[bulk_bad_key]"),
        ("neither", 2, "give either --group ID or one or more --patient ID"),
    ],
)
def test_exit_codes(
    server: FakeBulkServer,
    clock: FakeClock,
    rsa_pem: Path,
    tmp_path: Path,
    setup: str,
    code: int,
    needle: str,
) -> None:
    """0 done; 1 bad local input; 2 usage; 3 the server failed; 4 counts differ (docs/cli.md)."""
    extra: list[str] = []
    key = rsa_pem
    if setup == "mismatch":
        server.files[0].count = 99
    elif setup == "failed":
        server.status_script = [(410, {})]
    elif setup == "since":
        extra = ["--since", "2026-01-01"]
    elif setup == "key":
        key = tmp_path / "missing.pem"
    else:
        extra = ["--no-group"]
    r = invoke(server, clock, key, tmp_path / "out", *extra)
    assert r.exit_code == code
    assert needle in r.stderr and r.stdout == ""


def test_json_errors(
    server: FakeBulkServer, clock: FakeClock, rsa_pem: Path, tmp_path: Path
) -> None:
    """--format json errors: {"error": code, "message": ...} as the last line of stderr."""
    server.status_script = [(410, {})]
    r = invoke(server, clock, rsa_pem, tmp_path / "out", "--format", "json")
    assert json.loads(r.stderr.splitlines()[-1])["error"] == "bulk_export_failed"


def test_rich_progress_only_on_the_terminal_stream() -> None:
    """On a terminal stderr the rich reporter draws there (lines and bars), nothing elsewhere."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    with _reporter(tty) as rep:
        assert isinstance(rep, RichReporter)
        rep.waiting(202, "12%", 30)
        rep.file_started("Patient.1.ndjson", 100)
        rep.file_bytes("Patient.1.ndjson", 100)
        rep.file_done("Patient.1.ndjson", 3, skipped=False)
    assert "bulk: Patient.1.ndjson: 3 lines" in tty.getvalue()


def test_every_bulk_error_code_is_documented() -> None:
    """Each bulk_* code has a row in docs/errors.md; bulk export has its docs/cli.md heading."""
    text = (DOCS / "errors.md").read_text()
    assert [c for c in BULK_ERROR_CODES if f"| `{c}` |" not in text] == []
    assert "## `clotsafe bulk export" in (DOCS / "cli.md").read_text()
    bulk = (DOCS / "bulk.md").read_text()
    assert "## Screening an export" in bulk and "requiresAccessToken" in bulk
