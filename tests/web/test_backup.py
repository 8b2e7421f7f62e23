"""``clotsafe backup FILE`` and ``clotsafe restore FILE``: a round trip on SQLite and PostgreSQL,
run as the operator runs them (the installed command, its own process and database)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CLOTSAFE = str(Path(sys.executable).parent / "clotsafe")
PG_SERVER = os.environ.get("CLOTSAFE_TEST_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "not-a-real-pw-7731"  # trust auth ignores it; it must never be printed

#: run in a fresh process with the environment under test: seed, change, or show the data
SCRIPT = """
import json, sys
from clotsafe.web.serve import prepare
prepare()
from django.db import DatabaseError, connection, transaction
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.audit.services import log
from clotsafe.web.clients.models import Client
from clotsafe.web.clinics.models import Clinic

def seed():
    clinic = Clinic.objects.create(name="Before", emergency_number="999")
    client = Client.objects.create(clinic=clinic, name="Casey")
    log(clinic, None, "create", client, actor="seed")

def change():
    Client.objects.all().delete()
    log(Clinic.objects.create(name="After"), None, "create", actor="later")

def show():
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE clotsafe_audit_auditevent SET detail = 'x'")
        guarded = False
    except DatabaseError:
        guarded = True
    print(json.dumps({
        "clinics": sorted(Clinic.objects.values_list("name", flat=True)),
        "clients": sorted(Client.objects.values_list("name", flat=True)),
        "audit": [e.actor for e in AuditEvent.objects.order_by("id")],
        "guarded": guarded,
    }))

globals()[sys.argv[1]]()
"""


def _env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLOTSAFE_", "DJANGO_"))}  # fmt: skip
    env.update(CLOTSAFE_DATA_DIR=str(data_dir), CLOTSAFE_SECRET_KEY="test-only")
    if database_url:
        env["CLOTSAFE_DATABASE_URL"] = database_url
    return env


def _run(args: list[str], env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def _script(step: str, env: dict[str, str]) -> Any:
    out = _run([sys.executable, "-c", SCRIPT, step], env).stdout
    return json.loads(out) if step == "show" else None


def _round_trip(env: dict[str, str], backup: Path) -> subprocess.CompletedProcess[str]:
    """Seed, back up, change everything, restore: the data and the audit guard come back."""
    _script("seed", env)
    before = _script("show", env)
    assert before["clients"] == ["Casey"] and before["guarded"]
    made = _run([CLOTSAFE, "backup", str(backup)], env)
    assert made.stdout.startswith(f"Backup written to {backup}")
    assert backup.stat().st_mode & 0o777 == 0o600  # health data: owner only
    _script("change", env)
    assert _script("show", env) != before
    restored = _run([CLOTSAFE, "restore", "--yes", str(backup)], env)
    assert restored.stdout.startswith(f"Restored from {backup}")
    assert _script("show", env) == before
    return restored


def test_sqlite_round_trip(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    out = _round_trip(env, tmp_path / "clotsafe.backup")
    assert "SQLite database" in out.stdout


def test_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    _script("seed", env)
    existing = tmp_path / "kept.backup"
    existing.write_text("something else")
    result = _run([CLOTSAFE, "backup", str(existing)], env, ok=False)
    assert result.returncode != 0 and "already exists" in result.stderr
    assert existing.read_text() == "something else"


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    _script("seed", env)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    result = _run([CLOTSAFE, "restore", "--yes", str(junk)], env, ok=False)
    assert result.returncode != 0 and "not a SQLite clotsafe backup" in result.stderr
    assert _script("show", env)["clients"] == ["Casey"]


def test_restore_refuses_a_backup_from_a_newer_clotsafe(tmp_path: Path) -> None:
    """Its schema has changes this version does not know: restoring would break the app."""
    env = _env(tmp_path / "data")
    _script("seed", env)
    backup = tmp_path / "future.backup"
    _run([CLOTSAFE, "backup", str(backup)], env)
    with sqlite3.connect(backup) as conn:
        conn.execute("INSERT INTO django_migrations (app, name, applied) "
                     "VALUES ('clotsafe_audit', '9999_from_the_future', '2030-01-01')")  # fmt: skip
    conn.close()
    _script("change", env)
    result = _run([CLOTSAFE, "restore", "--yes", str(backup)], env, ok=False)
    assert "newer version of clotsafe" in result.stderr
    assert _script("show", env)["clinics"] == ["After", "Before"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of its own on the PostgreSQL server, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"clotsafe_backup_{os.getpid()}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}: {exc}")
    admin.execute(f"DROP DATABASE IF EXISTS {name}")
    admin.execute(f"CREATE DATABASE {name}")
    user, _, host = PG_SERVER.removeprefix("postgres://").partition("@")
    try:
        yield f"postgres://{user}:{PASSWORD}@{host}/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_postgresql_round_trip(tmp_path: Path, pg_url: str) -> None:
    """pg_dump / pg_restore, the password passed in the environment and never printed."""
    env = _env(tmp_path / "data", pg_url)
    out = _round_trip(env, tmp_path / "clotsafe.pgdump")
    assert "PostgreSQL database" in out.stdout
    assert PASSWORD not in out.stdout + out.stderr
    junk = tmp_path / "junk.pgdump"
    junk.write_bytes(b"PGDMP but not really" * 50)
    refused = _run([CLOTSAFE, "restore", "--yes", str(junk)], env, ok=False)
    assert refused.returncode != 0 and "pg_restore failed" in refused.stderr
    assert PASSWORD not in refused.stdout + refused.stderr
    assert _script("show", env)["clients"] == ["Casey"]
