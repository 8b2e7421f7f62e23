"""The intake Questionnaire, and QuestionnaireResponse -> intake checked against it."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir_builders import clot_item, complete_response, response, tri

from clotsafe.domain.questions import QUESTIONS
from clotsafe.fhir.errors import FhirInputError
from clotsafe.fhir.questionnaire import questionnaire, system_for
from clotsafe.fhir.response import read_response
from clotsafe.rules import evaluate


def _items() -> dict[str, dict]:
    out = {}
    for group in questionnaire()["item"]:
        for item in group["item"]:
            out[item["linkId"]] = item
    return out


def test_questionnaire_parses_with_fhir_resources_r4b() -> None:
    """The generated Questionnaire is valid FHIR (fhir.resources R4B model)."""
    Questionnaire.model_validate(questionnaire())


def test_every_intake_question_is_an_item_with_its_id_as_linkid() -> None:
    """One source of truth: each INTAKE.md question id is a linkId, and no other id appears."""
    assert set(_items()) == {q.id for q in QUESTIONS}


def test_follow_up_questions_carry_enable_when_any() -> None:
    """Follow-ups are only asked after their trigger (yes or unsure), any of several triggers."""
    bleed = _items()["rf_unusual_bleeding"]
    assert bleed["enableBehavior"] == "any"
    pairs = {(w["question"], w["answerCoding"]["code"]) for w in bleed["enableWhen"]}
    assert pairs == {
        ("anticoagulant", "yes"),
        ("anticoagulant", "unsure"),
        ("antiplatelet", "yes"),
        ("antiplatelet", "unsure"),
    }


def test_red_flags_are_required_and_regions_are_coded_repeating_choices() -> None:
    """Red-flag questions are required; body regions are a coded choice incl. the groups."""
    items = _items()
    assert items["rf_breathless"]["required"] is True
    site = items["surgery_site"]
    assert site["type"] == "choice" and site["repeats"] is True
    codes = {o["valueCoding"]["code"] for o in site["answerOption"]}
    assert {"left_calf", "legs", "arms"} <= codes
    assert {o["valueCoding"]["system"] for o in site["answerOption"]} == {system_for("region")}


def test_a_completed_response_becomes_the_same_intake() -> None:
    """Answers read from a QuestionnaireResponse give the decision the intake JSON would."""
    qr = complete_response(
        tri("clot_ever", "yes"), clot_item("dvt", "left_calf", "2026-10-01", "ongoing")
    )
    intake = read_response(qr).intake
    assert intake.to_json()["answers"]["clots"] == [
        {"kind": "dvt", "site": "left_calf", "diagnosed_on": "2026-10-01", "treatment": "ongoing"}
    ]
    assert evaluate(intake).level.value == "clearance_required"


def test_unknown_link_id_is_reported_with_its_path() -> None:
    """An item the Questionnaire does not have is an error naming item[i].linkId."""
    with pytest.raises(FhirInputError) as exc:
        read_response(
            response(tri("rf_breathless", "no"), {"linkId": "shoe_size"}, status="in-progress")
        )
    assert [(e.field, e.code) for e in exc.value.errors] == [("item[1].linkId", "unknown_link_id")]


def test_wrong_answer_type_names_the_value_path() -> None:
    """A number given as a Coding is an error at item[i].answer[0].valueCoding."""
    bad = {"linkId": "age", "answer": [{"valueCoding": {"system": "x", "code": "40"}}]}
    with pytest.raises(FhirInputError) as exc:
        read_response(response(bad, status="in-progress"))
    assert exc.value.errors[0].field == "item[0].answer[0].valueCoding"
    assert exc.value.errors[0].code == "wrong_type"


def test_code_outside_the_answer_options_is_rejected() -> None:
    """ "maybe" is not a tri answer: error at ...valueCoding.code."""
    with pytest.raises(FhirInputError) as exc:
        read_response(response(tri("rf_faint", "maybe"), status="in-progress"))
    assert exc.value.errors[0].field == "item[0].answer[0].valueCoding.code"
    assert exc.value.errors[0].code == "not_allowed_value"


def test_answer_to_an_item_that_is_not_enabled_is_an_error() -> None:
    """A surgery date without surgery_recent yes/unsure breaks enableWhen."""
    qr = response(
        tri("surgery_recent", "no"),
        {"linkId": "surgery_on", "answer": [{"valueDate": "2026-11-01"}]},
        status="in-progress",
    )
    with pytest.raises(FhirInputError) as exc:
        read_response(qr)
    assert [(e.field, e.code) for e in exc.value.errors] == [("item[1]", "not_enabled")]


def test_required_items_missing_from_a_completed_response_are_listed() -> None:
    """status=completed with red flags unanswered: each missing required item is an error."""
    with pytest.raises(FhirInputError) as exc:
        read_response(response(tri("rf_breathless", "no")))
    missing = {e.got for e in exc.value.errors if e.code == "required_missing"}
    assert "rf_chest_pain" in missing and "rf_breathless" not in missing


def test_in_progress_response_gives_an_incomplete_decision_not_an_error() -> None:
    """A partial response is allowed but the decision says the screening is incomplete."""
    intake = read_response(response(tri("rf_breathless", "no"), status="in-progress")).intake
    assert evaluate(intake).complete is False


def test_bundle_holding_one_response_is_read_with_entry_paths() -> None:
    """A Bundle with one QuestionnaireResponse works; errors are prefixed entry[i].resource."""
    qr = response(tri("rf_faint", "maybe"), status="in-progress")
    b = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "x"}}, {"resource": qr}],
    }
    with pytest.raises(FhirInputError) as exc:
        read_response(b)
    assert exc.value.errors[0].field == "entry[1].resource.item[0].answer[0].valueCoding.code"


def test_wrong_resource_type_is_a_clear_error() -> None:
    """A Patient is not a QuestionnaireResponse: error at resourceType."""
    with pytest.raises(FhirInputError) as exc:
        read_response({"resourceType": "Patient"})
    assert exc.value.errors[0].code == "wrong_resource_type"


def test_impossible_intake_values_map_back_to_the_item_path() -> None:
    """A clot diagnosed after the screening date is reported at the clot item's path."""
    qr = complete_response(tri("clot_ever", "yes"), clot_item("dvt", diagnosed="2027-01-01"))
    with pytest.raises(FhirInputError) as exc:
        read_response(qr)
    err = exc.value.errors[0]
    assert err.code == "impossible_date" and err.field.startswith("item[")
