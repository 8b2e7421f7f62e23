"""Thin views: read the request, call :mod:`clotsafe.fhir`, map errors in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from clotsafe.fhir.auth import AuthError, JwtConfig, bearer, verify
from clotsafe.fhir.cds import SERVICES, CardConfig, parse_feedback
from clotsafe.fhir.cds import discovery as discovery_body
from clotsafe.fhir.errors import FhirInputError, NotJson, fhir_json
from clotsafe.fhir.http import TOO_LARGE, error_body, simple_error, status_for
from clotsafe.fhir.service import UnknownService, handle
from clotsafe.web.cds import letters
from clotsafe.web.cds.conf import cds_settings
from clotsafe.web.cds.models import CardFeedback, DbJtiStore


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(discovery_body())


def _error(exc: Exception) -> JsonResponse:
    resp = JsonResponse(error_body(exc), status=status_for(exc))
    if isinstance(exc, AuthError):
        resp["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return resp


def _authenticate(request: HttpRequest) -> dict[str, Any]:
    conf = cds_settings()
    if not conf.auth:
        return {}
    token = bearer(request.headers.get("Authorization"))
    audience = conf.audience or (request.build_absolute_uri(request.path).rstrip("/"),)
    return verify(token, JwtConfig(conf.issuers, list(audience)), DbJtiStore())


def _body(request: HttpRequest) -> tuple[Any, JsonResponse | None]:
    limit = cds_settings().max_bytes
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return None, JsonResponse(simple_error("too_large", f"request body over {limit} bytes"),
                                  status=TOO_LARGE)  # fmt: skip
    try:  # a key named twice raises FhirInputError duplicate_key (422, POLICY 1.1 §8.1)
        return fhir_json(request.body), None
    except NotJson as exc:
        return None, _error(exc)


def _guarded(
    request: HttpRequest, service_id: str, work: Callable[[Any, dict[str, Any]], JsonResponse]
) -> JsonResponse:
    """Auth, service lookup, body size and JSON, then ``work``; errors mapped in one place."""
    try:
        if service_id not in SERVICES:
            raise UnknownService(service_id)
        claims = _authenticate(request)
        body, bad = _body(request)
        if bad is not None:
            return bad
        return work(body, claims)
    except (AuthError, UnknownService, FhirInputError) as exc:
        return _error(exc)


def _card_config(request: HttpRequest) -> CardConfig:
    base = cds_settings().public_url or request.build_absolute_uri("/").rstrip("/")
    return CardConfig(base_url=base)


@csrf_exempt
@require_POST
def call(request: HttpRequest, service_id: str) -> JsonResponse:
    def work(body: Any, _claims: dict[str, Any]) -> JsonResponse:
        today: date = timezone.localdate()
        store = letters.DbLetterStore() if cds_settings().letters else None
        result = handle(service_id, body, today=today, config=_card_config(request),
                        letters=store)  # fmt: skip
        return JsonResponse(result.response)

    return _guarded(request, service_id, work)


@csrf_exempt
@require_POST
def feedback(request: HttpRequest, service_id: str) -> JsonResponse:
    def work(body: Any, claims: dict[str, Any]) -> JsonResponse:
        parsed = parse_feedback(body)
        for item in parsed.feedback:
            reason = item.overrideReason.reason if item.overrideReason else None
            CardFeedback.objects.create(
                service_id=service_id, card_uuid=item.card, outcome=item.outcome,
                override_system=(reason.system or "") if reason else "",
                override_code=reason.code if reason else "",
                user_comment=(item.overrideReason.userComment or "") if item.overrideReason else "",
                outcome_timestamp=item.outcomeTimestamp, client_iss=str(claims.get("iss", "")),
                raw=item.model_dump(exclude_none=True),
            )  # fmt: skip
        return JsonResponse({})

    return _guarded(request, service_id, work)


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
