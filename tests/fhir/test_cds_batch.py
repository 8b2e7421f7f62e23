"""The CDS service's token ids and audit rows are written in groups (issue 10 §4, "batch the
jti store"), and grouping loses nothing: every caller gets its own answer only once its row is
committed, a token id is new exactly once however the calls are grouped, and a failed group
fails every call in it (the last-resort JSON 500), never only some of them silently."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from contextlib import nullcontext
from typing import Any

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
os.environ.setdefault("CLOTSAFE_DATA_DIR", tempfile.mkdtemp(prefix="clotsafe-test-"))
os.environ.setdefault("CLOTSAFE_SECRET_KEY", "test-only-not-a-secret")
django = pytest.importorskip("django")
django.setup()

from django.db import connection  # noqa: E402

from clotsafe.fhir.auth import jti_key  # noqa: E402
from clotsafe.web.cds import batch  # noqa: E402
from clotsafe.web.cds.batch import GroupCommit, Pending  # noqa: E402
from clotsafe.web.cds.models import DbJtiStore, SeenJti, _insert_jtis  # noqa: E402


class _Recording(GroupCommit):
    """A group commit whose "database" is a dict: records each group written."""

    def __init__(self, fail_on: str | None = None) -> None:
        super().__init__(nullcontext)
        self.stored: dict[str, int] = {}
        self.groups: list[list[str]] = []
        self.fail_on = fail_on

    def _write_all(self, group: list[Pending]) -> None:
        time.sleep(0.002)  # a commit takes time: others queue meanwhile
        self.groups.append([p.row[0] for p in group])
        if self.fail_on in self.groups[-1]:
            raise OSError("disk full")
        for p in group:
            p.result = p.row[0] not in self.stored
            self.stored.setdefault(p.row[0], 0)
            self.stored[p.row[0]] += 1


def _writer(cursor: Any, items: list[Pending]) -> None:  # a kind of row; never called here
    raise AssertionError


def _run_threads(writes: GroupCommit, ids: list[str]) -> dict[int, Any]:
    out: dict[int, Any] = {}

    def one(i: int, jti: str) -> None:
        try:
            out[i] = writes.submit(Pending(_writer, (jti,)))
        except OSError as exc:
            out[i] = exc

    threads = [threading.Thread(target=one, args=(i, j)) for i, j in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return out


def test_concurrent_writes_are_grouped_and_each_caller_gets_its_own_answer() -> None:
    """40 threads, 20 ids each sent twice: every id is new exactly once, every row is written
    once, and fewer groups than rows were committed (that is the point)."""
    writes = _Recording()
    ids = [f"id{i % 20}" for i in range(40)]
    out = _run_threads(writes, ids)
    assert len(out) == 40
    for jti in set(ids):
        answers = [out[i] for i, j in enumerate(ids) if j == jti]
        assert sorted(answers) == [False, True]
    assert sum(len(g) for g in writes.groups) == 40
    assert len(writes.groups) < 40


def test_a_failed_group_fails_every_call_in_it_and_the_next_group_still_writes() -> None:
    writes = _Recording(fail_on="bad")
    out = _run_threads(writes, ["bad", *(f"ok{i}" for i in range(15))])
    failed = next(g for g in writes.groups if "bad" in g)
    for i, jti in enumerate(["bad", *(f"ok{i}" for i in range(15))]):
        if jti in failed:
            assert isinstance(out[i], OSError)
        else:
            assert out[i] is True
    assert writes.submit(Pending(_writer, ("later",))) is True


def test_a_caller_whose_row_is_past_one_group_still_gets_it_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A leader takes at most MAX_BATCH rows; a caller whose row was left for the next group
    leads that one itself."""
    monkeypatch.setattr(batch, "MAX_BATCH", 2)
    writes = _Recording()
    out = _run_threads(writes, [f"id{i}" for i in range(12)])
    assert all(out[i] is True for i in range(12))
    assert max(len(g) for g in writes.groups) <= 2


@pytest.mark.django_db
def test_one_insert_for_a_group_tells_new_ids_from_stored_and_repeated_ones() -> None:
    """The SQL itself: an id already stored is not new, and an id sent twice in one group is
    new only the first time."""
    assert DbJtiStore().add_if_new("stored", 2_000_000_000)
    ids = ("a", "stored", "b", "a")
    group = [Pending(_insert_jtis, (jti_key(k), 2_000_000_000)) for k in ids]
    with connection.cursor() as cursor:
        _insert_jtis(cursor, group)
    assert [p.result for p in group] == [True, False, True, False]
    assert SeenJti.objects.count() == 3
    assert not DbJtiStore().add_if_new("a", 2_000_000_000)


class _Cursor:
    """Records statements; the INSERT returns every id (all new)."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self._rows: list[tuple[str]] = []

    def execute(self, sql: str, params: list[Any]) -> None:
        self.sql.append(sql.split()[0])
        self._rows = [(params[i],) for i in range(0, len(params), 2)] if "INSERT" in sql else []

    def fetchall(self) -> list[tuple[str]]:
        return self._rows


def test_expired_ids_are_deleted_once_a_minute_not_by_every_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The purge of expired ids used to run on every call made while the wall clock's seconds
    were a multiple of 60; inside the grouped write it still runs once per PURGE_EVERY."""
    from clotsafe.web.cds import models

    clock = [5000.0]
    monkeypatch.setattr(models.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(models, "_PURGE", models._PurgeClock())
    cursor = _Cursor()
    for i in range(500):  # 500 groups within one second
        _insert_jtis(cursor, [Pending(_insert_jtis, (f"k{i}", 1))])
        clock[0] += 0.002
    assert cursor.sql.count("DELETE") == 1 and cursor.sql.count("INSERT") == 500
    clock[0] += models.PURGE_EVERY
    _insert_jtis(cursor, [Pending(_insert_jtis, ("later", 1))])
    assert cursor.sql.count("DELETE") == 2
