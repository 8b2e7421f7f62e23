"""``flush`` empties every table, the audit log included: the one deliberate exception to the
append-only triggers (Django's test runner flushes between transactional tests with it).

The triggers are dropped and created again inside the flush's own transaction, so no other
connection ever sees the table unguarded, and a failed flush leaves them in place.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

from clotsafe.web.audit import triggers


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for sql in triggers.remove_sql(connection.vendor):
                cursor.execute(sql)
            super().handle(**options)
            for sql in triggers.install_sql(connection):
                cursor.execute(sql)
