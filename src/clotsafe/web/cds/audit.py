"""Every CDS Hooks call is audited: who (the verified issuer), which service and hook, the hook
instance, a keyed hash of the patient id (never the id), and the outcome.

In the full web app the event goes to its audit log (``clotsafe.web.audit.services.log``: no
clinic and no user, actor ``cds:<issuer>``, action ``view``, target type ``cds_hook``); the CDS
service running alone keeps it in :class:`~clotsafe.web.cds.models.HookCall`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.utils import timezone

from clotsafe.web.cds.batch import Pending
from clotsafe.web.cds.conf import cds_settings
from clotsafe.web.cds.models import WRITES, HookCall, _sqlite_writer, db_text

#: hex characters of the patient hash kept (128 bits)
HASH_CHARS = 32


def patient_hash(patient_id: str) -> str:
    """HMAC-SHA256 of the patient id under the service's audit key: the same patient gives the
    same hash in one installation, and the id cannot be found by trying ids without the key."""
    key = cds_settings().audit_key
    digest = hmac.new(key, patient_id.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()[:HASH_CHARS]


@dataclass(frozen=True, slots=True)
class HookCallRecord:
    service_id: str
    issuer: str
    hook: str
    hook_instance: str
    patient_hash: str
    status: int
    outcome: str

    @classmethod
    def of(cls, service_id: str, claims: dict[str, Any], body: Any, status: int,
           outcome: str) -> HookCallRecord:  # fmt: skip
        """What is audited of one call, read defensively (the body may be anything)."""
        body = body if isinstance(body, dict) else {}
        context = body.get("context") if isinstance(body.get("context"), dict) else {}
        patient = context.get("patientId")
        return cls(
            service_id=db_text(service_id, 100),
            issuer=db_text(claims.get("iss"), 300) or "-",
            hook=db_text(body.get("hook"), 50),
            hook_instance=db_text(body.get("hookInstance"), 200),
            patient_hash=patient_hash(patient) if isinstance(patient, str) else "",
            status=status,
            outcome=db_text(outcome, 100),
        )

    def detail(self) -> str:
        return (f"CDS hook call {self.service_id} ({self.hook or '-'}); hook instance "
                f"{self.hook_instance or '-'}; patient hash {self.patient_hash or '-'}; "
                f"outcome {self.status} {self.outcome}")  # fmt: skip


def record_call(record: HookCallRecord) -> None:
    """Write the event before the call is answered. In the CDS service alone, concurrent
    calls' rows go in one INSERT and one transaction with their token ids (``WRITES``); in
    the full web app, through its audit log (on SQLite queued on the same lock: concurrent
    calls would otherwise meet SQLite's sleep-polling busy handler)."""
    if apps.is_installed("clotsafe.web.audit"):
        from clotsafe.web.audit.services import log

        with _sqlite_writer():
            log(None, None, "view", target_type="cds_hook",
                actor=db_text(f"cds:{record.issuer}", 200), detail=record.detail())  # fmt: skip
        return
    at = HookCall._meta.get_field("at").get_db_prep_value(timezone.now(), connection)
    WRITES.submit(Pending(_insert, (at, record.service_id, record.issuer, record.hook,
                                    record.hook_instance, record.patient_hash, record.status,
                                    record.outcome)))  # fmt: skip


_COLUMNS = ("at", "service_id", "issuer", "hook", "hook_instance", "patient_hash", "status",
            "outcome")  # fmt: skip


def _insert(cursor: Any, items: list[Pending]) -> None:
    """One plain INSERT for a group of rows (the ORM's create costs several times more CPU)."""
    table = connection.ops.quote_name(HookCall._meta.db_table)
    row = f"({', '.join(['%s'] * len(_COLUMNS))})"
    cursor.execute(f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES "
                   + ", ".join([row] * len(items)), [v for p in items for v in p.row])  # fmt: skip
