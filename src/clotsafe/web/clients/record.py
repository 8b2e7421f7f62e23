"""A client's whole record, for the client's data rights: export (JSON, PDF) and erasure.

- :func:`record` gathers everything stored about one client: the client's details, each intake
  link's state and answers (never its token hash) with whatever the intake kept beside them
  (red-flag reports, consent, draft state, other medicines: every model that points at a link,
  found through the link's relations, so an intake model added later is exported too), every
  screening with its intake and decision JSON, every clearance, and who did what to the record
  (the audit events about it).
- :func:`record_pdf` renders the same in plain language (WeasyPrint, like the letter).
- :func:`erase` deletes the client and all of it; one audit event says that (and by whom) and
  holds no health data. Events written before hold none either: they name ids and actions.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from clotsafe.render import present as words
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.audit.services import log
from clotsafe.web.clearances.models import Clearance
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.screenings import present, readback
from clotsafe.web.screenings.letter import pdf_from_template
from clotsafe.web.screenings.models import Screening

FORMAT = "clotsafe client record"
VERSION = 1
#: never exported: a link's token hash would let the link be found again
SECRET_FIELDS = frozenset({"token_hash"})
TEMPLATE = "clotsafe/client_record.html"


# --- the record as data -----------------------------------------------------------------------


def _value(obj: models.Model, field: models.Field[Any, Any], users: dict[int, str]) -> Any:
    value = getattr(obj, field.attname)
    if value is not None and field.is_relation and field.related_model is get_user_model():
        return users.setdefault(value, _username(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _username(pk: int) -> str:
    user = get_user_model().objects.filter(pk=pk).first()
    return user.get_username() if user else "(removed user)"


def _plain(
    obj: models.Model, users: dict[int, str], *, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Every stored field of ``obj`` (users by name, dates as ISO text), secrets left out."""
    return {f.name: _value(obj, f, users) for f in obj._meta.concrete_fields
            if f.name not in SECRET_FIELDS and f.name not in skip}  # fmt: skip


def _link(link: IntakeLink, users: dict[int, str]) -> dict[str, Any]:
    out = {**_plain(link, users, skip=("client",)), "state": link.state()}
    for rel in link._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one) or rel.related_model is None:
            continue
        rows = rel.related_model._default_manager.filter(**{rel.field.name: link}).order_by("pk")
        kept = [_plain(r, users, skip=(rel.field.name,)) for r in rows]
        out[rel.name] = (kept[0] if kept else None) if rel.one_to_one else kept
    return out


def _audit(client: Client) -> list[dict[str, Any]]:
    """Who viewed, changed or exported the record: events about the client, its screenings,
    links and clearances (ids and actions only, as the log keeps them)."""
    targets = {"client": [client.pk],
               "screening": list(client.screenings.values_list("pk", flat=True)),
               "intakelink": list(client.intake_links.values_list("pk", flat=True)),
               "clearance": list(client.clearances.values_list("pk", flat=True))}  # fmt: skip
    query = models.Q(pk__in=[])
    for kind, ids in targets.items():
        query |= models.Q(target_type=kind, target_id__in=[str(i) for i in ids])
    events = AuditEvent.objects.filter(query, clinic=client.clinic).order_by("at", "id")
    return [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "target_type": e.target_type, "target_id": e.target_id, "detail": e.detail}
            for e in events]  # fmt: skip


def record(client: Client) -> dict[str, Any]:
    """Everything stored about the client, as JSON-ready data."""
    users: dict[int, str] = {}
    return {
        "format": FORMAT, "version": VERSION, "exported_at": timezone.now().isoformat(),
        "clinic": client.clinic.name,
        "client": _plain(client, users, skip=("clinic", "latest_screening")),
        "intake_links": [_link(k, users) for k in client.intake_links.order_by("created_at", "pk")],
        "screenings": [_plain(s, users, skip=("clinic", "client"))
                       for s in client.screenings.order_by("created_at", "pk")],
        "clearances": [_plain(c, users, skip=("clinic", "client"))
                       for c in client.clearances.order_by("recorded_at", "pk")],
        "audit": _audit(client),
    }  # fmt: skip


# --- the record as a PDF ----------------------------------------------------------------------

ACTION_WORDS = {"view": "opened", "create": "added", "change": "changed", "export": "exported",
                "submit": "sent", "open": "opened"}  # fmt: skip
TARGET_WORDS = {"client": "the client's record", "screening": "a screening",
                "intakelink": "an intake link", "clearance": "a clearance"}  # fmt: skip


def _audit_lines(client: Client) -> list[dict[str, str]]:
    """The audit events in words (no ids: the PDF is read by people)."""
    return [{"at": e["at"][:16].replace("T", " "), "actor": e["actor"],
             "what": f"{ACTION_WORDS.get(e['action'], e['action'])} "
                     f"{TARGET_WORDS.get(e['target_type'], e['target_type'])}"}
            for e in _audit(client)]  # fmt: skip


def _screening_view(s: Screening, emergency_number: str) -> dict[str, Any]:
    decision = present.decision_of(s)
    return {
        "screening": s, "kind": s.get_kind_display(),
        "badge": present.level_badge(s.level, emergency_number, complete=s.complete),
        "reasons": present.reasons(decision),
        "groups": readback.read_back(s.answers),
    }  # fmt: skip


def _link_view(link: IntakeLink) -> dict[str, Any]:
    from clotsafe.web.intake import history  # the intake app reads its own models

    flags = [{"question": words.question_text(r.question_id),
              "answer": words.value_words(r.question_id, r.first_answer),
              "at": r.answered_at, "shown": r.shown_text, "changed_at": r.changed_at}
             for r in history.red_flag_reports(link)]  # fmt: skip
    return {"link": link, "state": link.state(), "consent": history.consent_for(link),
            "red_flags": flags}  # fmt: skip


def _clearance_view(c: Clearance) -> dict[str, Any]:
    restrictions = c.restrictions or {}
    return {"clearance": c, "rules": ", ".join(c.rules),
            "avoid": words.region_labels(restrictions.get("avoid", [])),
            "notes": str(restrictions.get("notes", ""))}  # fmt: skip


def record_pdf(client: Client, by: Any) -> bytes:
    """The record in plain language, as a PDF."""
    number = client.clinic.emergency_number
    context = {
        "clinic": client.clinic, "client": client, "today": timezone.localdate(),
        "author": by.get_full_name() or by.get_username(),
        "screenings": [_screening_view(s, number)
                       for s in client.screenings.order_by("created_at", "pk")],
        "links": [_link_view(k) for k in client.intake_links.order_by("created_at", "pk")],
        "clearances": [_clearance_view(c) for c in client.clearances.order_by("date", "pk")],
        "audit": _audit_lines(client),
    }  # fmt: skip
    return pdf_from_template(TEMPLATE, context)


# --- erasure ----------------------------------------------------------------------------------


@transaction.atomic
def erase(client: Client, *, by: Any, request: HttpRequest | None = None) -> int:
    """Delete the client and every health datum about them (links and what the intake kept,
    screenings, clearances: all cascade); the audit event says only that client #id was erased.
    Returns the id."""
    pk, clinic = client.pk, client.clinic
    Client.objects.filter(pk=pk).update(latest_screening=None)
    client.delete()
    log(clinic, by, "erase", SimpleNamespace(pk=pk), target_type="client",
        detail=f"erased client #{pk} and all of their health data", request=request)  # fmt: skip
    return pk
