"""The intake contract of INTAKE.md: bad input gets a clear error naming the field."""

from __future__ import annotations

import pytest

from clotsafe.domain.errors import ERROR_CODES, IntakeError
from clotsafe.domain.intake import intake_json_schema, parse_intake, parse_intake_json
from clotsafe.domain.questions import BY_ID, QUESTIONS
from tests.helpers import intake


def _errors(obj: object, **kw: object) -> list[tuple[str, str]]:
    with pytest.raises(IntakeError) as exc:
        parse_intake(obj, **kw)  # type: ignore[arg-type]
    return [(e.field, e.code) for e in exc.value.errors]


def test_valid_intake_round_trips() -> None:
    """A valid intake keeps every answer, unchanged, for storage and re-screening."""
    obj = intake(
        {
            "clots": [
                {
                    "kind": "dvt",
                    "site": "left_calf",
                    "diagnosed_on": "2026-10-01",
                    "treatment": "ongoing",
                }
            ],
            "age": 58,
            "surgery_site": ["legs"],
        }
    )
    parsed = parse_intake(obj)
    assert parsed.to_json() == obj
    assert parsed.answers.regions("surgery_site") == frozenset(
        {
            "left_thigh",
            "left_knee",
            "left_calf",
            "left_foot",
            "right_thigh",
            "right_knee",
            "right_calf",
            "right_foot",
        }
    )


@pytest.mark.parametrize(
    ("answers", "field", "code"),
    [
        ({"rf_breathlss": "no"}, "answers.rf_breathlss", "unknown_question"),
        ({"rf_breathless": True}, "answers.rf_breathless", "not_allowed_value"),
        ({"rf_breathless": "maybe"}, "answers.rf_breathless", "not_allowed_value"),
        ({"age": "58"}, "answers.age", "wrong_type"),
        ({"age": 58.5}, "answers.age", "wrong_type"),
        ({"age": -1}, "answers.age", "out_of_range"),
        ({"surgery_site": ["left_toe"]}, "answers.surgery_site[0]", "unknown_region"),
        ({"surgery_on": "2026-02-30"}, "answers.surgery_on", "bad_date"),
        ({"surgery_on": "25/11/2026"}, "answers.surgery_on", "bad_date"),
        ({"surgery_on": 20261125}, "answers.surgery_on", "bad_date"),
        ({"surgery_on": "2026-12-01"}, "answers.surgery_on", "impossible_date"),
        ({"clots": [{"site": "left_calf"}]}, "answers.clots[0].kind", "missing_field"),
        ({"clots": [{"kind": "dvt", "site": "lungs"}]}, "answers.clots[0].site", "unknown_region"),
        (
            {"clots": [{"kind": "dvt", "diagnosed_on": "2027-01-01"}]},
            "answers.clots[0].diagnosed_on",
            "impossible_date",
        ),
        (
            {"anticoagulant_names": ["aspirin"]},
            "answers.anticoagulant_names[0]",
            "not_allowed_value",
        ),
        ({"sex": "man"}, "answers.sex", "not_allowed_value"),
    ],
)
def test_bad_answers_name_the_field(answers: dict[str, object], field: str, code: str) -> None:
    """Each kind of bad input is reported with its field path and a stable error code."""
    assert (field, code) in _errors(intake(answers))


def test_every_problem_is_reported_at_once() -> None:
    """A client's form shows every error, not just the first."""
    errs = _errors(intake({"rf_faint": "y", "age": "x", "surgery_site": ["nose"]}))
    assert {f for f, _ in errs} == {"answers.rf_faint", "answers.age", "answers.surgery_site[0]"}


@pytest.mark.parametrize("obj", [[1, 2], "intake", None])
def test_not_an_object(obj: object) -> None:
    """Something that is not an intake object is rejected as such."""
    assert _errors(obj) == [("", "not_an_object")]


def test_missing_top_level_fields() -> None:
    """An intake needs its screening date: no rule may read the clock instead."""
    assert ("screened_on", "missing_field") in _errors({"answers": {}})


def test_invalid_json_text() -> None:
    """A broken JSON line is an input error, not a crash."""
    with pytest.raises(IntakeError) as exc:
        parse_intake_json(b'{"screened_on": ')
    assert exc.value.errors[0].code == "invalid_json"


def test_null_means_not_answered() -> None:
    """A JSON null is read as missing, never as "no" (INTAKE.md: absent = not answered)."""
    parsed = parse_intake(intake({"rf_faint": None}))
    assert "rf_faint" not in parsed.answers


@pytest.mark.parametrize(
    ("clearance", "field", "code"),
    [
        ({"rules": ["RF-PE"]}, "clearances[0].rules", "rule_not_clearable"),
        ({"rules": ["NOPE"]}, "clearances[0].rules", "unknown_rule"),
        ({"rules": []}, "clearances[0].rules", "missing_field"),
        ({"date": "2026-12-01"}, "clearances[0].date", "impossible_date"),
        ({"valid_until": "2026-01-01"}, "clearances[0].valid_until", "impossible_date"),
        (
            {"restrictions": {"avoid": ["tail"]}},
            "clearances[0].restrictions.avoid[0]",
            "unknown_region",
        ),
        (
            {"restrictions": {"pressure_max": {"legs": 7}}},
            "clearances[0].restrictions.pressure_max.legs",
            "out_of_range",
        ),
        (  # the path names the key itself, without pydantic's "[key]" marker
            {"restrictions": {"pressure_max": {"left_toe": 2}}},
            "clearances[0].restrictions.pressure_max.left_toe",
            "unknown_region",
        ),
    ],
)
def test_bad_clearances(clearance: dict[str, object], field: str, code: str) -> None:
    """A clearance that names a red flag, an unknown rule or impossible dates is refused."""
    base = {"rules": ["CLOT-ACTIVE"], "clinician": "Dr A", "date": "2026-11-01", **clearance}
    errs = _errors(intake(clearances=[base]), known_rules={"CLOT-ACTIVE": True, "RF-PE": False})
    assert (field, code) in errs


def test_error_codes_are_known() -> None:
    """Every code the parser emits is a documented code."""
    for obj in (intake({"rf_breathlss": "no", "age": "1", "surgery_on": "2026-13-01"}), [1]):
        with pytest.raises(IntakeError) as exc:
            parse_intake(obj)
        assert {e.code for e in exc.value.errors} <= set(ERROR_CODES)


def test_json_schema_lists_every_question() -> None:
    """`clotsafe schema intake` describes every question id with its allowed values."""
    schema = intake_json_schema()
    props = schema["$defs"]["Answers"]["properties"]
    assert set(props) == set(BY_ID)
    assert schema["$defs"]["Answers"]["additionalProperties"] is False
    assert len(QUESTIONS) == len(props)
