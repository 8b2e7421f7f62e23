"""``POST /screen``: an intake JSON in, the decision out, under the caller's clinic settings.

Stateless: nothing is stored but the audit line. The body is the intake JSON of INTAKE.md
(with clearances, POLICY §5), validated by the engine, so errors carry the engine's codes and
paths (``answers.age``, ``clearances[0].date``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from clotsafe.domain.intake import parse_intake_json
from clotsafe.knowledge import clearable_rules
from clotsafe.web import engine
from clotsafe.web.api import common
from clotsafe.web.api.schemas import DecisionOut, ErrorsOut

router = Router(tags=["screen"])

INTAKE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Intake"}}},
    }
}


@router.post(
    "/screen",
    response={200: DecisionOut, 400: ErrorsOut, 413: ErrorsOut, 422: ErrorsOut},
    openapi_extra=INTAKE_BODY,
)
def screen(request: HttpRequest) -> dict[str, Any]:
    """Screen one intake JSON with the clinic's settings; returns the decision JSON."""
    intake = parse_intake_json(common.raw_json(request), known_rules=clearable_rules())
    # the intake parsed once: not rebuilt from its answers and validated a second time
    return engine.decide(intake, settings_toml=common.clinic(request).settings_toml).to_json()
