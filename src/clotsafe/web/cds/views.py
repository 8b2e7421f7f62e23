"""Thin views: read the request, call :mod:`clotsafe.fhir`, map errors in one place.

Every answer of the hook and feedback endpoints is JSON, errors included: a body over the limit,
a wrong method, input nested too deep, and -- as a last resort, logged -- an unexpected error.
Every hook call is audited (:mod:`clotsafe.web.cds.audit`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from clotsafe.fhir.auth import AuthError, JwtConfig, bearer, verify
from clotsafe.fhir.cds import SERVICES, CardConfig, CdsRequest, parse_feedback
from clotsafe.fhir.cds import discovery as discovery_body
from clotsafe.fhir.client import FhirClient
from clotsafe.fhir.errors import FhirInputError, fhir_json, problem
from clotsafe.fhir.http import TOO_LARGE, error_body, simple_error, status_for
from clotsafe.fhir.service import UnknownService, handle, unread_conditions_dropped
from clotsafe.web.cds import letters
from clotsafe.web.cds.audit import HookCallRecord, record_call
from clotsafe.web.cds.conf import body_limit, cds_settings
from clotsafe.web.cds.models import CardFeedback, DbJtiStore, db_json, db_text

log = logging.getLogger(__name__)


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(discovery_body())


@dataclass
class _Call:
    """What one POST became: the verified claims, the body, the answer (for the audit)."""

    claims: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    outcome: str = ""


def _error(exc: Exception, call: _Call | None = None) -> JsonResponse:
    body = error_body(exc)
    if call is not None and not call.outcome:
        call.outcome = str(body.get("error", ""))
    resp = JsonResponse(body, status=status_for(exc))
    if isinstance(exc, AuthError):
        resp["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return resp


def _simple(call: _Call, status: int, code: str, message: str) -> JsonResponse:
    call.outcome = call.outcome or code
    return JsonResponse(simple_error(code, message), status=status)


def _authenticate(request: HttpRequest) -> dict[str, Any]:
    conf = cds_settings()
    if not conf.auth:
        return {}
    token = bearer(request.headers.get("Authorization"))
    audience = conf.audience or (request.build_absolute_uri(request.path).rstrip("/"),)
    return verify(token, JwtConfig(conf.issuers, list(audience)), DbJtiStore())


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def _read_body(request: HttpRequest) -> Any:
    """The JSON body; :class:`_TooLarge` over the limit (the same answer whether our limit or
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE is the lower), NotJson / FhirInputError (a key named
    twice: duplicate_key, 422, POLICY 1.1 §8.1) otherwise."""
    limit = body_limit()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise _TooLarge(limit)
    try:
        raw = request.body
    except RequestDataTooBig:
        raise _TooLarge(limit) from None
    if len(raw) > limit:
        raise _TooLarge(limit)
    return fhir_json(raw)


TOO_DEEP = problem("", "too_deep", "the JSON nests deeper than clotsafe reads")


def _guarded(request: HttpRequest, service_id: str, call: _Call,
             work: Callable[[_Call], JsonResponse]) -> JsonResponse:  # fmt: skip
    """Auth, service lookup, body size and JSON, then ``work``; errors mapped in one place."""
    if request.method != "POST":
        resp = _simple(call, 405, "method_not_allowed", "use POST")
        resp["Allow"] = "POST"
        return resp
    try:
        if service_id not in SERVICES:
            raise UnknownService(service_id)
        call.claims = _authenticate(request)
        call.body = _read_body(request)
        return work(call)
    except (AuthError, UnknownService, FhirInputError) as exc:
        return _error(exc, call)
    except _TooLarge as exc:
        return _simple(call, TOO_LARGE, "too_large", f"request body over {exc.limit} bytes")
    except RecursionError:
        return _error(FhirInputError([TOO_DEEP]), call)
    except Exception:  # the last resort: JSON, logged (never the token), never an HTML page
        log.exception("CDS service %s failed", service_id)
        return _simple(call, 500, "internal_error", "clotsafe could not answer this call")


def _card_config(request: HttpRequest) -> CardConfig:
    base = cds_settings().public_url or request.build_absolute_uri("/").rstrip("/")
    return CardConfig(base_url=base)


def _fhir_client(request: CdsRequest) -> FhirClient:
    """The FHIR client for this call: the EHR's token, the configured address policy."""
    token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
    return FhirClient(request.fhirServer or "", token, policy=cds_settings().fhir_policy)


def _unread_dropped(body: Any) -> Any:
    """The hook body with the prefetched Conditions the service passes over already left out
    (:func:`~clotsafe.fhir.service.unread_conditions_dropped` for ``context.patientId``;
    ``handle`` applies it again and finds nothing more), so that the ~170 unread Conditions of
    a typical record are freed as soon as the body has been checked instead of being held for
    the whole call: the answer is the same, and with 8 calls in flight a worker's calls use
    less memory and less CPU (benchmarks/cds/README.md). Anything else is left as it came."""
    if not isinstance(body, dict):
        return body
    prefetch, context = body.get("prefetch"), body.get("context")
    patient_id = context.get("patientId") if isinstance(context, dict) else None
    if not isinstance(prefetch, dict) or not isinstance(patient_id, str):
        return body
    return {**body, "prefetch": unread_conditions_dropped(prefetch, patient_id)}


@csrf_exempt
def call(request: HttpRequest, service_id: str) -> JsonResponse:
    def work(c: _Call) -> JsonResponse:
        c.body = _unread_dropped(c.body)  # the only reference: the rest is freed now
        today: date = timezone.localdate()
        store = letters.DbLetterStore() if cds_settings().letters else None
        result = handle(service_id, c.body, today=today, config=_card_config(request),
                        letters=store, make_client=_fhir_client)  # fmt: skip
        c.outcome = f"card {result.level}" if result.level else "no card"
        return JsonResponse(result.response)

    c = _Call()
    resp = _guarded(request, service_id, c, work)
    record_call(HookCallRecord.of(service_id, c.claims, c.body, resp.status_code, c.outcome))
    return resp


@csrf_exempt
def feedback(request: HttpRequest, service_id: str) -> JsonResponse:
    def work(c: _Call) -> JsonResponse:
        parsed = parse_feedback(c.body)
        for item in parsed.feedback:
            reason = item.overrideReason.reason if item.overrideReason else None
            comment = item.overrideReason.userComment if item.overrideReason else None
            CardFeedback.objects.create(
                service_id=service_id, card_uuid=db_text(item.card, 100), outcome=item.outcome,
                override_system=db_text(reason.system, 300) if reason else "",
                override_code=db_text(reason.code, 100) if reason else "",
                user_comment=db_text(comment, 10_000),
                outcome_timestamp=db_text(item.outcomeTimestamp, 40),
                client_iss=db_text(c.claims.get("iss"), 300),
                raw=db_json(item.model_dump(exclude_none=True)),
            )  # fmt: skip
        return JsonResponse({})

    return _guarded(request, service_id, _Call(), work)


_GONE = {
    404: ("Letter not found", "This consultation letter link is not known. Check that the whole "
          "link was copied, or open the patient's clotsafe card again for a new one."),
    410: ("Letter link expired", "This consultation letter link has expired. Open the patient's "
          "clotsafe card again in the record for a new link."),
}  # fmt: skip


def _gone(status: int) -> HttpResponse:
    title, text = _GONE[status]
    page = format_html('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}'
                       "</title></head><body><h1>{}</h1><p>{}</p></body></html>",
                       title, title, text)  # fmt: skip
    return HttpResponse(page, status=status)


@require_GET
def letter_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """A clearance_required card's consultation letter; the token is the permission."""
    letter = letters.find_letter(token)
    if letter is None:
        return _gone(404)
    if letter.expired:
        return _gone(410)
    pdf = letters.render(letter)
    letters.record_view(letter)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="clotsafe-letter-{letter.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
