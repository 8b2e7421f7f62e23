"""What the CDS service stores: feedback on its cards, the JWT ids it has seen, and the
consultation letters its clearance_required cards link to (behind a capability token)."""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone


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


@contextmanager
def _sqlite_writer() -> Iterator[None]:
    """On SQLite, queue writers on a lock file (and a thread lock) instead of letting SQLite's
    busy handler sleep-poll: concurrent hook calls each write one jti. Other databases: no-op."""
    if connection.vendor != "sqlite":
        yield
        return
    if connection.is_in_memory_db():  # tests: one process, no file to lock next to
        with _THREAD_LOCK:
            yield
        return
    path = f"{connection.settings_dict['NAME']}.jti-lock"
    with _THREAD_LOCK, open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class DbJtiStore:
    """The :class:`clotsafe.fhir.auth.JtiStore` protocol on the database."""

    def add_if_new(self, jti: str, expires_at: int) -> bool:
        now = int(timezone.now().timestamp())
        with _sqlite_writer():
            if now % 60 == 0:  # purge expired ids about once a minute, not on every call
                SeenJti.objects.filter(expires_at__lt=now - 60).delete()
            try:
                with transaction.atomic():
                    SeenJti.objects.create(jti=jti, expires_at=expires_at)
            except IntegrityError:
                return False
        return True


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
