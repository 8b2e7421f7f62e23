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

import threading
import time
from collections.abc import Callable, Iterator
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
        with self._lock(), transaction.atomic(), connection.cursor() as cursor:
            for write, items in _by_writer(batch):
                write(cursor, items)


def _by_writer(batch: list[Pending]) -> Iterator[tuple[BatchWriter, list[Pending]]]:
    groups: dict[BatchWriter, list[Pending]] = {}
    for p in batch:
        groups.setdefault(p.write, []).append(p)
    yield from groups.items()
