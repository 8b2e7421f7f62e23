"""The functions the CLI wires: `clotsafe fhir questionnaire` and `clotsafe screen --fhir`."""

from __future__ import annotations

import pytest
from fhir_builders import AT, ICD, ago, bundle, complete_response, condition, patient, tri

from clotsafe.domain.intake import parse_intake
from clotsafe.fhir.cli_support import FhirInputError, intake_from_fhir, questionnaire_json


def test_questionnaire_json_is_the_questionnaire() -> None:
    """`clotsafe fhir questionnaire` prints a Questionnaire resource."""
    assert questionnaire_json()["resourceType"] == "Questionnaire"


def test_intake_from_a_questionnaire_response_is_valid_intake_json() -> None:
    """A completed response becomes intake JSON that parse_intake accepts."""
    out = intake_from_fhir(complete_response(tri("anticoagulant", "yes"),
                                             tri("rf_unusual_bleeding", "no")))  # fmt: skip
    assert parse_intake(out).answers.get("anticoagulant") == "yes"
    assert out["screened_on"] == AT.isoformat()


def test_intake_from_ehr_data_needs_a_date_and_uses_it() -> None:
    """EHR data is read at the given date; without one the error says so."""
    b = bundle(patient(), condition("I82.412", ICD, onset=ago(20)))
    assert intake_from_fhir(b, AT)["answers"]["clot_ever"] == "yes"
    with pytest.raises(FhirInputError) as exc:
        intake_from_fhir(b)
    assert exc.value.errors[0].code == "missing_date"


def test_errors_carry_paths_into_the_resource() -> None:
    """A bad answer reports item[i].answer[j].valueCoding.code for the CLI to print."""
    with pytest.raises(FhirInputError) as exc:
        intake_from_fhir(complete_response(tri("rf_faint", "maybe")))
    assert any(e.field.endswith("answer[0].valueCoding.code") for e in exc.value.errors)
