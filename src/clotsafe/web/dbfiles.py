"""The SQLite database holds clients' health answers: its file, -wal and -shm are owner-only.

SQLite creates a -wal, -shm or -journal file with the mode of the database file, so making the
database 0600 as soon as a connection opens it (before any write) keeps every later file 0600;
files left by an older install are tightened too. PostgreSQL keeps its own files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

PRIVATE = 0o600
SIDE_FILES = ("", "-wal", "-shm", "-journal")


def private_files(database: Path) -> None:
    """Make the database file and its side files (those that exist) mode 0600."""
    for suffix in SIDE_FILES:
        path = Path(f"{database}{suffix}")
        try:
            if path.stat().st_mode & 0o777 != PRIVATE:
                os.chmod(path, PRIVATE)
        except FileNotFoundError:
            continue


def on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: a SQLite file database is made private."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return
    private_files(Path(name))
