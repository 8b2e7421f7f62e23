"""The CDS service's grouped writes (token ids, audit rows) go straight to the sqlite3
connection when Django has no transaction open on it (issue 10 §4: Django's ``atomic`` and
cursor wrappers cost as much CPU as the writes). Replay protection and the audit must not
notice: a token id is new exactly once, a failed group writes nothing of itself and leaves the
connection usable, the rows read back through the ORM as Django would have written them, and
inside a Django transaction (or on PostgreSQL) the group still goes through Django."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from typing import Any

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
os.environ.setdefault("CLOTSAFE_DATA_DIR", tempfile.mkdtemp(prefix="clotsafe-test-"))
os.environ.setdefault("CLOTSAFE_SECRET_KEY", "test-only-not-a-secret")
django = pytest.importorskip("django")
django.setup()

from django.db import connection, transaction  # noqa: E402

from clotsafe.fhir.auth import jti_key  # noqa: E402
from clotsafe.web.cds import audit, batch  # noqa: E402
from clotsafe.web.cds.batch import GroupCommit, Pending  # noqa: E402
from clotsafe.web.cds.models import (  # noqa: E402
    WRITES,
    DbJtiStore,
    HookCall,
    SeenJti,
    _insert_jtis,
    _sqlite_writer,
)

SQLITE = connection.vendor == "sqlite"
EXP = 2_000_000_000


def _fail(cursor: Any, items: list[Pending]) -> None:
    raise OSError("disk full")


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_token_id_is_new_exactly_once() -> None:
    """On SQLite the plain connection is used (elsewhere Django's); either way the first use
    of an id is new and the second a replay, and Django's connection works on after it."""
    assert (batch._plain_sqlite() is not None) is SQLITE
    store = DbJtiStore()
    assert store.add_if_new("tok-1", EXP)
    assert not store.add_if_new("tok-1", EXP)
    assert store.add_if_new("tok-2", EXP)
    assert sorted(SeenJti.objects.values_list("jti", flat=True)) == sorted(
        [jti_key("tok-1"), jti_key("tok-2")]
    )
    assert not connection.in_atomic_block
    if SQLITE:
        assert not connection.connection.in_transaction


@pytest.mark.django_db(transaction=True)
def test_a_group_that_fails_writes_nothing_of_itself_and_the_next_one_writes() -> None:
    """The first writer's row of a failing group is rolled back with it; every caller of that
    group gets the error; the connection is left out of any transaction."""
    writes = GroupCommit(_sqlite_writer)
    group = [Pending(_insert_jtis, (jti_key("in-failed-group"), EXP)), Pending(_fail, ())]
    writes._lead(group)
    assert all(isinstance(p.error, OSError) and p.done for p in group)
    assert not SeenJti.objects.filter(jti=jti_key("in-failed-group")).exists()
    if SQLITE:
        assert not connection.connection.in_transaction
    assert writes.submit(Pending(_insert_jtis, (jti_key("after"), EXP))) is True
    assert SeenJti.objects.filter(jti=jti_key("after")).exists()


@pytest.mark.django_db(transaction=True)
def test_an_audit_row_reads_back_as_the_orm_would_have_written_it() -> None:
    """The audit INSERT (``%s`` placeholders) on the plain connection: every column, and the
    time stamp, come back through the ORM unchanged."""
    at = datetime(2026, 11, 30, 12, 34, 56, 789012, tzinfo=UTC)
    prepared = HookCall._meta.get_field("at").get_db_prep_value(at, connection)
    row = (prepared, "clotsafe-patient-view", "https://ehr.example", "patient-view",
           "hook-1", "ab" * 16, 200, "card clearance_required")  # fmt: skip
    WRITES.submit(Pending(audit._insert, row))
    (call,) = HookCall.objects.all()
    assert call.at == at
    got = (call.service_id, call.issuer, call.hook, call.hook_instance, call.patient_hash,
           call.status, call.outcome)  # fmt: skip
    assert got == row[1:]


@pytest.mark.django_db
def test_inside_a_django_transaction_the_group_goes_through_django() -> None:
    """An open ``atomic`` block (the tests' own, or a caller's) keeps the write inside it: the
    plain connection is not used, and rolling the block back takes the row with it."""
    assert batch._plain_sqlite() is None
    with transaction.atomic():
        sid = transaction.savepoint()
        assert DbJtiStore().add_if_new("inside", EXP)
        assert SeenJti.objects.filter(jti=jti_key("inside")).exists()
        transaction.savepoint_rollback(sid)
    assert not SeenJti.objects.filter(jti=jti_key("inside")).exists()


@pytest.mark.django_db(transaction=True)
def test_with_autocommit_turned_off_by_hand_the_group_is_left_to_django() -> None:
    """A caller managing its transaction by hand (``set_autocommit(False)``): the plain
    connection is not used (its own BEGIN and COMMIT would end the caller's transaction);
    Django writes the group as before."""
    transaction.set_autocommit(False)
    try:
        assert batch._plain_sqlite() is None
        assert DbJtiStore().add_if_new("by-hand", EXP)
        assert not DbJtiStore().add_if_new("by-hand", EXP)
        transaction.commit()
    finally:
        transaction.set_autocommit(True)
