"""The CDS service's small writes, committed in groups (issue 10 §4: batch the jti store).

Every hook call writes twice: its token id (replay protection, before it is answered) and its
audit row (after). On SQLite one writer at a time may write, so writes queue on a lock
(``models._sqlite_writer``). A thread holding that lock gives up the GIL at every system call
in it (the lock file, each statement, the commit) and, while the other threads compute, waits
up to the interpreter's switch interval (5 ms) to get it back each time: at 20 concurrent
calls the lock was held for many milliseconds per write and each write waited 16-45 ms for it
(measured on 2 cores, benchmarks/cds/README.md).

Here the first thread to arrive (the leader) writes everything the other threads queued while
it waited, in one transaction under one lock, and then hands over; each caller still returns
only once its own rows are committed, so a call is answered only after its token id and its
audit row are stored (nothing is written after the answer: a process that stops loses no
answered call's rows).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

#: ``write(cursor, items)``: one statement for the items of one kind; sets each item's result
BatchWriter = Callable[[Any, list["Pending"]], None]

#: a leader writes at most this many items (the rest go to the next leader)
MAX_BATCH = 256


class WriteTimeout(RuntimeError):
    """A write was not committed within the time allowed (the last-resort JSON 500)."""


@dataclass(eq=False, slots=True)
class Pending:
    """One row to write, and what became of it."""

    write: BatchWriter
    row: tuple[Any, ...]
    result: Any = None
    error: Exception | None = None
    done: bool = False


class GroupCommit:
    """Leader/follower group commit: no extra thread, one transaction per group."""

    def __init__(self, lock: Callable[[], AbstractContextManager[None]],
                 wait_seconds: float = 30.0) -> None:  # fmt: skip
        self._lock = lock
        self._wait = wait_seconds
        self._cv = threading.Condition()
        self._queue: list[Pending] = []
        self._leading = False

    def submit(self, item: Pending) -> Any:
        """Write ``item`` (with whatever else is queued); its result once committed."""
        deadline = time.monotonic() + self._wait
        with self._cv:
            self._queue.append(item)
        while True:
            with self._cv:
                while not item.done and self._leading:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise WriteTimeout("the write was not committed in time")
                    self._cv.wait(left)
                if item.done:
                    break
                self._leading = True
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            self._lead(batch)  # its own item is in it unless more than MAX_BATCH wait
        if item.error is not None:
            raise item.error
        return item.result

    def _lead(self, batch: list[Pending]) -> None:
        try:
            self._write_all(batch)
        except Exception as exc:  # every caller of the group raises it, in its own thread
            for p in batch:
                p.error = exc
        finally:
            with self._cv:
                for p in batch:
                    p.done = True
                self._leading = False
                self._cv.notify_all()

    def _write_all(self, batch: list[Pending]) -> None:
        with self._lock():
            plain = _plain_sqlite()
            if plain is None:
                with transaction.atomic(), connection.cursor() as cursor:
                    _write_groups(cursor, batch)
            else:
                _write_plain(plain, batch)


def _write_groups(cursor: Any, batch: list[Pending]) -> None:
    for write, items in _by_writer(batch):
        write(cursor, items)


def _plain_sqlite() -> sqlite3.Connection | None:
    """This thread's own sqlite3 connection, when a group may be written on it directly: SQLite
    in autocommit, with no transaction of Django's open on it (an ``atomic`` block: then
    through Django, inside it). Django's ``atomic`` and cursor wrappers cost about as much CPU
    as the group's INSERT and COMMIT themselves (0.12 against 0.05 ms a group, in process)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    if not connection.get_autocommit():  # transactions managed by hand: leave them to Django
        return None
    raw = connection.connection
    if not isinstance(raw, sqlite3.Connection) or raw.in_transaction:
        return None
    return raw


def _write_plain(raw: sqlite3.Connection, batch: list[Pending]) -> None:
    """One ``BEGIN IMMEDIATE`` ... ``COMMIT`` on the plain connection (Django leaves it in
    autocommit between its own transactions); rolled back if any statement fails."""
    cursor = raw.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
        try:
            _write_groups(_QmarkCursor(cursor), batch)
            cursor.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.rollback()
            raise
    finally:
        cursor.close()


class _QmarkCursor:
    """The writers' statements (``%s`` placeholders, as Django's cursors take them) on a plain
    sqlite3 cursor (``?``). They hold no other ``%``."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("%s", "?"), params)

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()


def _by_writer(batch: list[Pending]) -> Iterator[tuple[BatchWriter, list[Pending]]]:
    groups: dict[BatchWriter, list[Pending]] = {}
    for p in batch:
        groups.setdefault(p.write, []).append(p)
    yield from groups.items()
