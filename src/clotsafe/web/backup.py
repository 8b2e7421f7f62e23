"""Back up and restore the web app's database (``clotsafe backup`` / ``clotsafe restore``).

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``), a consistent copy even
  while the server writes; restore copies the backup back the same way, page by page, under
  SQLite's lock, so no reader ever sees half a database.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists
  --single-transaction`` (all or nothing). The connection comes from CLOTSAFE_DATABASE_URL and
  is passed to them through PG* environment variables: the password never appears on a command
  line (``ps``) nor in anything printed.

A backup holds every client's health data: the file is written owner-only (0600), and never
over an existing file. A restore refuses a file that is not a clotsafe backup, a damaged one,
and one made by a newer clotsafe (it holds migrations this version does not know); an older
one is migrated after the restore. Stop the server while restoring (docs/operations.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader

PRIVATE = 0o600
#: a table every clotsafe database has (a backup without it is not one of ours)
MARKER_TABLE = "clotsafe_clinics_clinic"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in plain words."""


@dataclass(frozen=True)
class Done:
    """What was done, for the command to print (never a password)."""

    what: str
    database: str


def _settings() -> dict[str, Any]:
    return dict(connections["default"].settings_dict)


def _vendor() -> str:
    return connections["default"].vendor


def describe(db: dict[str, Any]) -> str:
    """The database in words, without its password."""
    if "sqlite" in db["ENGINE"]:
        return f"SQLite database {db['NAME']}"
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"PostgreSQL database {db['NAME']} on {host}{port}"


# --- backup ---------------------------------------------------------------------------------


def backup(path: Path) -> Done:
    """Write a backup of the database to ``path`` (a new file, mode 0600)."""
    if path.exists():
        raise BackupError(f"{path} already exists: choose a new file name.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    db = _settings()
    tmp = _private_temp(path)
    try:
        if _vendor() == "sqlite":
            _sqlite_backup(db, tmp)
        elif _vendor() == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={tmp}"], db)
        else:
            raise BackupError(f"Backups of a {_vendor()} database are not supported.")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return Done(f"Backup written to {path}", describe(db))


def _private_temp(path: Path) -> Path:
    """An empty owner-only file beside ``path`` (renamed into place when complete)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    os.chmod(name, PRIVATE)
    return Path(name)


def _sqlite_connect(name: str) -> sqlite3.Connection:
    return sqlite3.connect(name, uri=name.startswith("file:"))


def _sqlite_backup(db: dict[str, Any], target: Path) -> None:
    source = _sqlite_connect(str(db["NAME"]))
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


# --- restore --------------------------------------------------------------------------------


def restore(path: Path) -> Done:
    """Replace the database's contents with the backup at ``path``, then migrate it."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    db = _settings()
    applied = _sqlite_migrations(path) if _vendor() == "sqlite" else _pg_migrations(path, db)
    _refuse_newer(applied)
    connections.close_all()
    if _vendor() == "sqlite":
        _sqlite_restore(path, db)
    elif _vendor() == "postgresql":
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", f"--dbname={db['NAME']}", str(path)], db)  # fmt: skip
    else:
        raise BackupError(f"Restoring a {_vendor()} database is not supported.")
    call_command("migrate", interactive=False, verbosity=0)
    return Done(f"Restored from {path}", describe(db))


def _sqlite_migrations(path: Path) -> set[tuple[str, str]]:
    """The migrations recorded in a SQLite backup, after checking it is a sound clotsafe one."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError(f"{path} is damaged (SQLite's check failed): not restored.")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not {MARKER_TABLE, "django_migrations"} <= tables:
                raise BackupError(f"{path} is not a clotsafe backup: not restored.")
            return set(conn.execute("SELECT app, name FROM django_migrations"))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite clotsafe backup ({exc}): not restored.") from exc


def _pg_migrations(path: Path, db: dict[str, Any]) -> set[tuple[str, str]]:
    """The migrations recorded in a pg_dump archive (its django_migrations data, as text)."""
    listing = _run(["pg_restore", "--list", str(path)], db, what="read the backup")
    if f"TABLE public {MARKER_TABLE} " not in listing:
        raise BackupError(f"{path} is not a clotsafe backup: not restored.")
    data = _run(["pg_restore", "--data-only", "--table=django_migrations", "--file=-",
                 str(path)], db, what="read the backup")  # fmt: skip
    rows, inside = set(), False
    for line in data.splitlines():
        if line.startswith("COPY ") and "django_migrations" in line:
            inside = True
        elif inside and line == "\\.":
            break
        elif inside:
            _, app, name, *_ = line.split("\t")
            rows.add((app, name))
    return rows


def _refuse_newer(applied: set[tuple[str, str]]) -> None:
    """A backup from a newer clotsafe has migrations this one does not know: refuse it."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    unknown = sorted(m for m in applied if m[0] in loader.migrated_apps and m not in known)
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise BackupError("This backup was made by a newer version of clotsafe (it has "
                          f"changes this version does not know: {names}). Upgrade clotsafe, "
                          "then restore.")  # fmt: skip


def _sqlite_restore(path: Path, db: dict[str, Any]) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    dest = _sqlite_connect(str(db["NAME"]))
    try:
        source.backup(dest)
    except sqlite3.OperationalError as exc:  # e.g. "database is locked"
        raise BackupError(f"The database is busy ({exc}): stop the server, then restore.") from exc
    finally:
        dest.close()
        source.close()


# --- PostgreSQL tools -------------------------------------------------------------------------


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                     ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):  # fmt: skip
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run(args: list[str], db: dict[str, Any], *, what: str = "") -> str:
    """Run a PostgreSQL tool; its error, if any, without the password."""
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed: install the PostgreSQL client tools.")
    result = subprocess.run(args, env=_pg_env(db), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = result.stderr.strip() or f"exit status {result.returncode}"
        password = str(db.get("PASSWORD") or "")
        if password:
            message = message.replace(password, "***")
        raise BackupError(f"{args[0]} failed{' to ' + what if what else ''}: {message}")
    return result.stdout
