"""Functions the command line wires up (``clotsafe fhir questionnaire``,
``clotsafe screen --fhir PATH``); the CLI itself lives in ``clotsafe.cli``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from clotsafe.domain.errors import FieldError
from clotsafe.fhir.ehr import derive
from clotsafe.fhir.errors import FhirInputError, problem
from clotsafe.fhir.questionnaire import questionnaire
from clotsafe.fhir.response import read_response
from clotsafe.fhir.sources import holds_response

__all__ = ["FhirInputError", "intake_and_warnings", "intake_from_fhir", "questionnaire_json"]


def questionnaire_json() -> dict[str, Any]:
    """The intake Questionnaire (FHIR R4 JSON)."""
    return questionnaire()


def intake_from_fhir(obj: Any, at: date | None = None) -> dict[str, Any]:
    """Intake JSON from a QuestionnaireResponse (or a Bundle holding one) or from EHR data
    (a Bundle or list of Patient/Condition/Medication.../Observation/Procedure/Encounter).

    ``at`` is the screening date: for a QuestionnaireResponse it defaults to ``authored``; EHR
    data needs it (time windows count back from it). Raises :class:`FhirInputError`; each of
    its ``.errors`` has ``field`` = the path into the resource (``item[3].answer[0].valueCoding``).
    """
    return intake_and_warnings(obj, at)[0]


def intake_and_warnings(
    obj: Any, at: date | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """:func:`intake_from_fhir`, and what the EHR data held that could not be used (the
    warnings the CDS card lists under "Not used from the record"; none for a response)."""
    if holds_response(obj):
        return read_response(obj, at=at).intake.to_json(), []
    if at is None:
        raise FhirInputError([problem("", "missing_date",
                                      "EHR data needs the screening date: time windows count "
                                      "back from it")])  # fmt: skip
    facts = derive(obj, at=at)
    return facts.intake().to_json(), list(facts.warnings)
