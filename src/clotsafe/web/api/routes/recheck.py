"""``POST /clients/{client_id}/recheck``: the before-session re-check (POLICY §3). Today's
red-flag answers replace the previous ones; every other answer is kept; the client is screened
again, exactly as on the web page's re-check."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from clotsafe.domain.errors import FieldError
from clotsafe.domain.questions import RED_FLAG_IDS
from clotsafe.web.api import common
from clotsafe.web.api.common import ApiInputError, IdPath
from clotsafe.web.api.schemas import ErrorsOut, ScreeningOut
from clotsafe.web.api.serialize import screening_out
from clotsafe.web.screenings import services as screenings

router = Router(tags=["screenings"])

RECHECK_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecheckIn"}}},
    }
}


def recheck_schema(answers: dict[str, Any]) -> dict[str, Any]:
    """The body's JSON Schema, from the intake's own answer schemas for the red flags."""
    props = {q: answers["properties"][q] for q in RED_FLAG_IDS}
    inner = {"type": "object", "properties": props, "additionalProperties": False}
    return {
        "type": "object",
        "title": "RecheckIn",
        "required": ["answers"],
        "properties": {"answers": inner},
        "additionalProperties": False,
    }


@router.post(
    "/clients/{client_id}/recheck",
    openapi_extra=RECHECK_BODY,
    response={201: ScreeningOut, 400: ErrorsOut, 404: ErrorsOut, 413: ErrorsOut, 422: ErrorsOut},
)
def recheck(
    request: HttpRequest, client_id: int = IdPath("a client of your clinic")
) -> Status[dict[str, Any]]:
    """Re-check the red flags before a session; returns the new screening."""
    client = common.client_of(request, client_id)
    answers = _red_flags(common.json_body(request))
    screening = screenings.recheck(client, answers, by=common.user(request))
    return Status(201, screening_out(screening))


def _red_flags(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiInputError([FieldError("", "not_an_object", "expected a JSON object")])
    errors = [
        FieldError(k, "unknown_field", f"{k!r} is not a field here") for k in body if k != "answers"
    ]
    answers = body.get("answers")
    if not isinstance(answers, dict):
        code = "missing_field" if answers is None else "wrong_type"
        errors.append(FieldError("answers", code, "expected an object of red-flag answers"))
    else:
        errors += [
            FieldError(
                f"answers.{k}",
                "unknown_question",
                f"{k!r} is not a red-flag question: a re-check asks only those",
            )
            for k in answers
            if k not in RED_FLAG_IDS
        ]
    if errors or not isinstance(answers, dict):
        raise ApiInputError(errors)
    return answers
