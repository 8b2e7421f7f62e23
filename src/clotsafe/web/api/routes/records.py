"""Screenings (read), clearances (list, record) and the clinic's audit log export."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status

from clotsafe.domain.errors import FieldError, IntakeError
from clotsafe.domain.intake import parse_intake_json
from clotsafe.knowledge import clearable_rules
from clotsafe.web.api import common
from clotsafe.web.api.common import ApiInputError, IdPath
from clotsafe.web.api.schemas import ClearanceOut, ClearanceRecorded, ErrorsOut, ScreeningOut
from clotsafe.web.api.schemas import ScreeningSummary as Summary
from clotsafe.web.api.serialize import clearance_out, screening_out, screening_summary
from clotsafe.web.audit.services import export_rows
from clotsafe.web.clearances import services as clearances
from clotsafe.web.clearances.models import Clearance
from clotsafe.web.clients.models import Client
from clotsafe.web.screenings import services as screenings
from clotsafe.web.screenings.models import Screening

router = Router(tags=["screenings", "clearances", "audit"])

CLIENT_ID = IdPath("a client of your clinic")
SCREENING_ID = IdPath("a screening of your clinic")
#: the longest clinician name the database keeps (Clearance.clinician)
CLINICIAN_MAX = 200
CLEARANCE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ClearanceIn"}}},
    }
}
CSV_200 = {
    "responses": {
        "200": {
            "description": "the audit log as CSV, oldest first",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


@router.get(
    "/clients/{client_id}/screenings", response={200: list[Summary], 404: ErrorsOut, 422: ErrorsOut}
)
def screening_list(request: HttpRequest, client_id: int = CLIENT_ID) -> list[dict[str, Any]]:
    """The client's screenings, newest first."""
    client = common.client_of(request, client_id)
    return [screening_summary(s) for s in screenings.history(client)]


@router.get(
    "/screenings/{screening_id}", response={200: ScreeningOut, 404: ErrorsOut, 422: ErrorsOut}
)
def screening_detail(request: HttpRequest, screening_id: int = SCREENING_ID) -> dict[str, Any]:
    """One screening: the intake JSON evaluated and the decision JSON, as stored."""
    s = get_object_or_404(Screening, pk=screening_id, clinic=common.clinic(request))
    return screening_out(s)


@router.get(
    "/clients/{client_id}/clearances",
    response={200: list[ClearanceOut], 404: ErrorsOut, 422: ErrorsOut},
)
def clearance_list(request: HttpRequest, client_id: int = CLIENT_ID) -> list[dict[str, Any]]:
    client = common.client_of(request, client_id)
    return [clearance_out(c) for c in Clearance.objects.filter(client=client)]


@router.post(
    "/clients/{client_id}/clearances",
    openapi_extra=CLEARANCE_BODY,
    response={
        201: ClearanceRecorded,
        400: ErrorsOut,
        404: ErrorsOut,
        413: ErrorsOut,
        422: ErrorsOut,
    },
)
def clearance_record(request: HttpRequest, client_id: int = CLIENT_ID) -> Status[dict[str, Any]]:
    """Record a clinician's clearance (POLICY §5) and re-screen the client with it. The body is
    a clearance as the intake JSON carries it; its rules must be reasons of the client's
    latest screening that a clearance can cover."""
    client = common.client_of(request, client_id)
    data = _clearance(common.raw_json(request))
    problems = [_unprefixed(e) for e in clearances.check(client, data)] or _not_on(client, data)
    if problems:
        raise ApiInputError(problems)
    clearance, screening = clearances.record(client, data, by=common.user(request))
    return Status(
        201, {"clearance": clearance_out(clearance), "screening": screening_summary(screening)}
    )


def _clearance(raw: bytes) -> dict[str, Any]:
    """The body checked by the engine as the clearance of an intake JSON (its codes, messages
    and paths, without the ``clearances[0].`` in front); the clearance as the form gives it."""
    obj = orjson.loads(raw)
    if not isinstance(obj, dict):
        raise ApiInputError(
            [FieldError("", "not_an_object", "the clearance must be a JSON object")]
        )
    wrapped = b'{"screened_on":"%s","answers":{},"clearances":[%s]}' % (
        screenings.today().isoformat().encode(),
        raw,
    )
    try:
        parse_intake_json(wrapped, known_rules=clearable_rules())
    except IntakeError as exc:
        raise ApiInputError([_unprefixed(e) for e in exc.errors]) from None
    if len(obj["clinician"]) > CLINICIAN_MAX:
        raise ApiInputError(
            [FieldError("clinician", "out_of_range", f"at most {CLINICIAN_MAX} characters")]
        )
    restrictions = obj.get("restrictions", {})
    return {
        "rules": list(dict.fromkeys(obj["rules"])),
        "clinician": obj["clinician"],
        "date": date.fromisoformat(obj["date"]),
        "valid_until": date.fromisoformat(obj["valid_until"]) if obj.get("valid_until") else None,
        "restrictions": {
            "pressure_max": restrictions.get("pressure_max", {}),
            "avoid": restrictions.get("avoid", []),
            "notes": restrictions.get("notes", ""),
        },
    }


def _unprefixed(e: FieldError) -> FieldError:
    """``clearances[0].date`` (the engine checks it inside an intake) -> ``date``."""
    field = e.field.removeprefix("clearances[0]").removeprefix(".")
    return FieldError("" if field == "clearances" else field, e.code, e.message, e.got)


def _not_on(client: Client, data: dict[str, Any]) -> list[FieldError]:
    """Rules that are not reasons of the client's latest screening to clear (as on the web)."""
    latest = client.latest_screening
    open_ = {r["rule"] for r in clearances.clearable(latest)} if latest else set()
    return [
        FieldError(
            "rules",
            "not_allowed_value",
            f"{rule} is not a reason of the client's latest screening that a clearance can cover",
            rule,
        )
        for rule in data["rules"]
        if rule not in open_
    ]


@router.get("/audit.csv", response={401: ErrorsOut}, openapi_extra=CSV_200)
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The clinic's audit log as CSV (the same export as the Team page's)."""
    response = StreamingHttpResponse(export_rows(common.clinic(request)), content_type="text/csv")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="clotsafe-audit-{stamp}.csv"'
    return response
