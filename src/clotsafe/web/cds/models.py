"""What the CDS service stores: feedback on its cards, the JWT ids it has seen, and the
consultation letters its clearance_required cards link to (behind a capability token)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import IO, Any

import orjson
from django.db import connection, models
from django.utils import timezone

from clotsafe.fhir.auth import jti_key
from clotsafe.web.cds.batch import GroupCommit, Pending


class CardFeedback(models.Model):
    """One feedback entry a CDS client POSTed for a card (accepted or overridden)."""

    service_id: models.CharField[str, str] = models.CharField(max_length=100)
    card_uuid: models.CharField[str, str] = models.CharField(max_length=100, db_index=True)
    outcome: models.CharField[str, str] = models.CharField(max_length=20)
    override_system: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    override_code: models.CharField[str, str] = models.CharField(max_length=100, blank=True)
    user_comment: models.TextField[str, str] = models.TextField(blank=True)
    outcome_timestamp: models.CharField[str, str] = models.CharField(max_length=40)
    client_iss: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    received_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        default=timezone.now
    )
    raw: models.JSONField[Any, Any] = models.JSONField()

    def __str__(self) -> str:
        return f"{self.service_id} card {self.card_uuid}: {self.outcome}"


class SeenJti(models.Model):
    """A JWT id already used by a CDS client (replay protection) until it expires."""

    jti: models.CharField[str, str] = models.CharField(max_length=255, unique=True)
    expires_at: models.BigIntegerField[int, int] = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return str(self.jti)


_THREAD_LOCK = threading.Lock()
#: (process id, path) -> the lock file, opened once per process: a descriptor inherited
#: through fork would share its lock with the parent's, so each process opens its own
_LOCK_FILES: dict[tuple[int, str], IO[bytes]] = {}


def _lock_file(path: str) -> IO[bytes]:
    key = (os.getpid(), path)
    f = _LOCK_FILES.get(key)
    if f is None:
        f = _LOCK_FILES[key] = open(path, "ab")  # noqa: SIM115  (kept open: the process's lock)
    return f


@contextmanager
def _sqlite_writer() -> Iterator[None]:
    """On SQLite, queue writers on a lock file (and a thread lock) instead of letting SQLite's
    busy handler sleep-poll. Other databases: no-op. The lock file stays open, so holding
    the lock costs two system calls (each one gives up the GIL while the lock is held)."""
    if connection.vendor != "sqlite":
        yield
        return
    if connection.is_in_memory_db():  # tests: one process, no file to lock next to
        with _THREAD_LOCK:
            yield
        return
    path = f"{connection.settings_dict['NAME']}.jti-lock"
    with _THREAD_LOCK:
        f = _lock_file(path)
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


#: the token ids and audit rows of concurrent calls, written in groups (batch.py)
WRITES = GroupCommit(_sqlite_writer)

#: how often (seconds) one process deletes the expired token ids
PURGE_EVERY = 60
#: a BIGINT holds it; auth refuses tokens living longer than five minutes anyway
_MAX_EXPIRES = 2**62


class _PurgeClock:
    """Once every PURGE_EVERY seconds per process, on a monotonic clock. (Before: every call
    made while the wall clock's seconds were a multiple of 60 purged -- all of them.)"""

    def __init__(self) -> None:
        self._next = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                return False
            self._next = now + PURGE_EVERY
            return True


_PURGE = _PurgeClock()


class DbJtiStore:
    """The :class:`clotsafe.fhir.auth.JtiStore` protocol on the database.

    Keeps :func:`clotsafe.fhir.auth.jti_key` (a SHA-256: any length, any character, even NUL,
    fits) with ``INSERT ... ON CONFLICT DO NOTHING``: a replay is not among the rows the
    insert returns, with no exception and no savepoint. Concurrent calls' ids go in one
    statement and one transaction (:data:`WRITES`)."""

    def add_if_new(self, jti: str, expires_at: int) -> bool:
        row = (jti_key(jti), max(-_MAX_EXPIRES, min(int(expires_at), _MAX_EXPIRES)))
        return bool(WRITES.submit(Pending(_insert_jtis, row)))


def _insert_jtis(cursor: Any, items: list[Pending]) -> None:
    """One INSERT for a group of ids; an id already stored, or sent twice in the group (the
    second one), is not new. Expired ids are deleted first, once a minute per process."""
    table = connection.ops.quote_name(SeenJti._meta.db_table)
    if _PURGE.due():
        cursor.execute(f"DELETE FROM {table} WHERE expires_at < %s", [int(time.time()) - 60])
    values = ", ".join(["(%s, %s)"] * len(items))
    cursor.execute(f"INSERT INTO {table} (jti, expires_at) VALUES {values} "
                   "ON CONFLICT (jti) DO NOTHING RETURNING jti",
                   [v for p in items for v in p.row])  # fmt: skip
    inserted = {row[0] for row in cursor.fetchall()}
    for p in items:
        p.result = p.row[0] in inserted
        inserted.discard(p.row[0])


_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def db_text(value: object, max_chars: int) -> str:
    """A string as a text column can keep it: NUL (which PostgreSQL refuses) becomes U+FFFD,
    and it is cut to the column's length."""
    text = value if isinstance(value, str) else ""
    return text.replace("\x00", "\ufffd")[:max_chars]


def db_json(value: Any) -> Any:
    """A JSON value as a JSON column can keep it: NUL in any string becomes U+FFFD
    (PostgreSQL's jsonb refuses \\u0000)."""
    raw = orjson.dumps(value)
    if b"\\u0000" not in raw:
        return value
    return orjson.loads(_NUL.sub(r"\1\\ufffd", raw.decode()))


#: 256 random bits per letter link (at least 128 asked); only the SHA-256 is stored
LETTER_TOKEN_BYTES = 32
#: expired letters are kept (answering 410) this long, then deleted when a new one is issued
LETTER_KEEP_EXPIRED = timedelta(days=7)


def letter_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsultationLetter(models.Model):
    """What a clearance_required card's consultation letter needs, opened by a capability
    token (EHR users have no clotsafe login). Only the token's SHA-256 is stored."""

    token_hash: models.CharField[str, str] = models.CharField(max_length=64, unique=True)
    decision: models.JSONField[Any, Any] = models.JSONField()
    policy_version: models.CharField[str, str] = models.CharField(max_length=40)
    service_id: models.CharField[str, str] = models.CharField(max_length=100)
    hook_instance: models.CharField[str, str] = models.CharField(max_length=200, blank=True)
    user_id: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    patient_name: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    birth_date: models.CharField[str, str] = models.CharField(max_length=20, blank=True)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        default=timezone.now
    )
    expires_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"letter {self.pk} ({self.service_id}, hook {self.hook_instance})"

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at


class LetterView(models.Model):
    """One opening of a CDS letter, kept here when the web app's audit log is not installed
    (the CDS service running alone). A plain id, not a foreign key: the record outlives the
    letter."""

    letter_id: models.BigIntegerField[int, int] = models.BigIntegerField(db_index=True)
    hook_instance: models.CharField[str, str] = models.CharField(max_length=200, blank=True)
    user_id: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    detail: models.CharField[str, str] = models.CharField(max_length=500, blank=True)
    at: models.DateTimeField[datetime, datetime] = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"letter {self.letter_id} viewed at {self.at:%Y-%m-%d %H:%M}"


class HookCall(models.Model):
    """One CDS Hooks call, audited here when the web app's audit log is not installed (the CDS
    service running alone): the verified issuer, service, hook, hook instance, a keyed hash of
    the patient id (never the id) and the outcome (HTTP status and level or error code)."""

    at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        default=timezone.now, db_index=True
    )
    service_id: models.CharField[str, str] = models.CharField(max_length=100)
    issuer: models.CharField[str, str] = models.CharField(max_length=300)
    hook: models.CharField[str, str] = models.CharField(max_length=50, blank=True)
    hook_instance: models.CharField[str, str] = models.CharField(max_length=200, blank=True)
    patient_hash: models.CharField[str, str] = models.CharField(max_length=64, blank=True)
    status: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField()
    outcome: models.CharField[str, str] = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.service_id} {self.hook_instance}: {self.status} {self.outcome}"
