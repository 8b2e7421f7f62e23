"""Model instances as the API's response dicts (the schemas in schemas.py check them)."""

from __future__ import annotations

from typing import Any

from clotsafe.web.clearances.models import Clearance
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.screenings.models import Screening


def client_out(c: Client) -> dict[str, Any]:
    s = c.latest_screening
    return {
        "id": c.pk,
        "name": c.name,
        "reference": c.reference,
        "date_of_birth": c.date_of_birth,
        "email": c.email,
        "phone": c.phone,
        "archived": c.archived_at is not None,
        "created_at": c.created_at,
        "level": c.level or None,
        "latest_screening": screening_summary(s) if s else None,
    }


def screening_summary(s: Screening) -> dict[str, Any]:
    return {
        "id": s.pk,
        "client_id": s.client_id,
        "kind": s.kind,
        "screened_on": s.screened_on,
        "created_at": s.created_at,
        "level": s.level,
        "complete": s.complete,
        "policy_version": s.policy_version,
    }


def screening_out(s: Screening) -> dict[str, Any]:
    return {**screening_summary(s), "intake": s.intake, "decision": s.decision}


def link_out(k: IntakeLink) -> dict[str, Any]:
    return {
        "id": k.pk,
        "client_id": k.client_id,
        "state": k.state(),
        "created_at": k.created_at,
        "expires_at": k.expires_at,
        "started_at": k.started_at,
        "submitted_at": k.submitted_at,
        "emailed_to": k.emailed_to,
        "emailed_at": k.emailed_at,
        "reminded_at": k.reminded_at,
    }


def clearance_out(c: Clearance) -> dict[str, Any]:
    return {
        "id": c.pk,
        "client_id": c.client_id,
        "rules": list(c.rules),
        "clinician": c.clinician,
        "date": c.date,
        "valid_until": c.valid_until,
        "restrictions": dict(c.restrictions),
        "recorded_at": c.recorded_at,
    }
