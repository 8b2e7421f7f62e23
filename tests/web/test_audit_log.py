"""The audit log itself: append-only down to the database, a CSV a spreadsheet cannot run,
and events that survive the removal of the user or clinic they name."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from clotsafe.web.audit import triggers
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.audit.services import csv_cell, log
from clotsafe.web.clinics.models import Clinic

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def _event(clinic: Any, user: Any = None, detail: str = "seen") -> AuditEvent:
    return log(clinic, user, "view", target_type="client", detail=detail)


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET detail = 'tampered'",
        f"UPDATE {TABLE} SET actor = 'someone else'",
        f"UPDATE {TABLE} SET at = at",  # even a no-op rewrite of a row is refused... except FKs
        f"DELETE FROM {TABLE}",
    ],
)
def test_raw_sql_cannot_change_or_delete_audit_events(clinic_a: Any, sql: str) -> None:
    """The ORM guard is not enough: the database itself refuses UPDATE and DELETE."""
    event = _event(clinic_a)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql.replace("SET at = at", "SET at = at, detail = 'x'"))
    fresh = AuditEvent.objects.get(pk=event.pk)
    assert fresh.detail == "seen" and fresh.actor == event.actor


def test_base_manager_update_is_refused(clinic_a: Any) -> None:
    """``_base_manager`` skips the append-only queryset; the trigger still refuses."""
    _event(clinic_a)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.update(detail="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.all()._raw_delete(connection.alias)
    assert AuditEvent.objects.get().detail == "seen"


def test_a_foreign_key_may_be_set_to_another_row_only_by_nulling_it(
    clinic_a: Any, clinic_b: Any
) -> None:
    """The triggers let a removed user or clinic be unlinked (NULL), never relinked."""
    event = _event(clinic_a)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.filter(pk=event.pk).update(clinic=clinic_b)
    AuditEvent._base_manager.filter(pk=event.pk).update(clinic=None)
    assert AuditEvent.objects.get(pk=event.pk).clinic_id is None


@pytest.mark.parametrize(
    "column",
    [f.column for f in AuditEvent._meta.concrete_fields if f.column not in triggers.UNLINKABLE],
)
def test_every_column_is_guarded(clinic_a: Any, column: str) -> None:
    """The SQLite trigger names the columns one by one: none may be left out (a migration that
    adds a column must install the triggers again)."""
    _event(clinic_a)
    values = {
        "id": 987654,
        "at": "2000-01-01 00:00:00+00",
        "ip_address": "10.0.0.9",
        "changes": '{"x": 1}',
    }
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f'UPDATE {TABLE} SET "{column}" = %s', [values.get(column, "{}")])


def test_removing_a_user_and_a_clinic_keeps_their_events(
    clinic_a: Any, lead_a: Any, make_member: Any
) -> None:
    """Users and clinics can be removed; their events stay, with the names kept as text."""
    event = _event(clinic_a, lead_a)
    lead_a.delete()
    clinic_a.delete()
    kept = AuditEvent.objects.get(pk=event.pk)
    assert (kept.user_id, kept.clinic_id) == (None, None)
    assert (kept.actor, kept.clinic_name, kept.detail) == ("lead_a", "Clinic A", "seen")
    assert not Clinic.objects.filter(name="Clinic A").exists()


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
    ],
)
def test_csv_cell_escapes_formulas(value: str, cell: str) -> None:
    """OWASP CSV injection: a cell starting with = + - @ tab or CR gets a leading quote."""
    assert csv_cell(value) == cell


def test_audit_csv_does_not_make_a_formula_of_a_username(
    client: Any, clinic_a: Any, lead_a: Any, make_member: Any
) -> None:
    """A username like ``=HYPERLINK(...)`` reaches the lead's CSV as text, not as a formula."""
    evil = make_member(clinic_a, '=HYPERLINK("http://evil.example")')
    log(clinic_a, evil, "view", target_type="client", detail="@cmd")
    client.force_login(lead_a)
    response = client.get(reverse("audit_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil.example")' in cells and "'@cmd" in cells
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells)


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_log_and_keeps_the_guard(clinic_a: Any) -> None:
    """``flush`` (the test runner's reset between transactional tests) may empty the log;
    the triggers are back afterwards."""
    from django.core.management import call_command

    _event(clinic_a)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    _event(Clinic.objects.create(name="After"))
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.update(detail="tampered")
