"""Database triggers that keep the audit log append-only below the ORM.

``AuditEvent``'s queryset refuses ``update()`` and ``delete()``, but ``_base_manager``, raw SQL
and a database shell do not go through it. These triggers (PostgreSQL and SQLite) refuse every
UPDATE and DELETE of an audit event, with one exception: the user or clinic foreign key may be
set to NULL and nothing else changed. That is what Django does when a user or clinic is removed
(``on_delete=SET_NULL``); the names stay as text in ``actor`` and ``clinic_name``.

Installed by migration 0002 (:func:`install`). The SQLite trigger names the table's columns as
they are when it is made, and SQLite drops a table's triggers when a migration rebuilds it: every
later migration of this table ends with ``RunPython(triggers.install, triggers.install)``.
``flush`` (which empties every table, tests use it) lifts them for its transaction only: see
``clotsafe.web.audit.management.commands.flush``.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "clotsafe_audit_auditevent"
#: foreign keys that may only be set to NULL (their row was removed)
UNLINKABLE = ("user_id", "clinic_id")
MESSAGE = "the audit log is append-only"

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION clotsafe_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'user_id' - 'clinic_id')
           = (to_jsonb(OLD) - 'user_id' - 'clinic_id')
       AND (NEW.user_id IS NULL OR NEW.user_id IS NOT DISTINCT FROM OLD.user_id)
       AND (NEW.clinic_id IS NULL OR NEW.clinic_id IS NOT DISTINCT FROM OLD.clinic_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{MESSAGE}';
END;
$$;
"""
_PG_TRIGGER = f"""
CREATE TRIGGER clotsafe_audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION clotsafe_audit_append_only();
"""


def _sqlite_update_guard(columns: list[str]) -> str:
    fixed = [c for c in columns if c not in UNLINKABLE]
    changed = [f'NEW."{c}" IS NOT OLD."{c}"' for c in fixed]
    relinked = [f'(NEW."{c}" IS NOT OLD."{c}" AND NEW."{c}" IS NOT NULL)' for c in UNLINKABLE]
    return (f"CREATE TRIGGER clotsafe_audit_no_update BEFORE UPDATE ON {TABLE} "
            f"WHEN {' OR '.join(changed + relinked)} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")  # fmt: skip


_SQLITE_DELETE_GUARD = (f"CREATE TRIGGER clotsafe_audit_no_delete BEFORE DELETE ON {TABLE} "
                        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")  # fmt: skip


def columns(connection: BaseDatabaseWrapper) -> list[str]:
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, TABLE)]


def install_sql(connection: BaseDatabaseWrapper) -> list[str]:
    """The statements that create the triggers on the connection's database (SQLite: over
    every column the table has now)."""
    vendor = connection.vendor
    if vendor == "postgresql":
        return [_PG_FUNCTION, "DROP TRIGGER IF EXISTS clotsafe_audit_append_only ON " + TABLE,
                _PG_TRIGGER]  # fmt: skip
    if vendor == "sqlite":
        return [*remove_sql(vendor), _sqlite_update_guard(columns(connection)),
                _SQLITE_DELETE_GUARD]  # fmt: skip
    return []  # another database: the ORM guard only (docs/operations.md)


def remove_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS clotsafe_audit_append_only ON {TABLE}",
                "DROP FUNCTION IF EXISTS clotsafe_audit_append_only()"]  # fmt: skip
    if vendor == "sqlite":
        return ["DROP TRIGGER IF EXISTS clotsafe_audit_no_update",
                "DROP TRIGGER IF EXISTS clotsafe_audit_no_delete"]  # fmt: skip
    return []


def install(apps: Any, schema_editor: Any) -> None:
    """Migration step: create the triggers for the connection's database."""
    for sql in install_sql(schema_editor.connection):
        schema_editor.execute(sql)


def remove(apps: Any, schema_editor: Any) -> None:
    """Migration step (backwards): drop them."""
    for sql in remove_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql)
