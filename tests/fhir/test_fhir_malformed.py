"""Malformed FHIR never crashes clotsafe: wrong resourceType, broken references, missing codes,
unknown code systems, wrong JSON types anywhere, huge bundles -> a clear error or a warning."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from fhir_builders import (
    AT,
    ICD,
    ago,
    bundle,
    condition,
    encounter_inpatient,
    med_request,
    observation,
    patient,
    procedure,
)

from clotsafe.fhir.cds import CardConfig
from clotsafe.fhir.ehr import derive
from clotsafe.fhir.errors import FhirInputError
from clotsafe.fhir.service import handle

WEIRD: list[Any] = [None, 7, -1.5, True, "", "x" * 300, [], [1, "a"], {}, {"coding": 3},
                    {"reference": 5}, "2026-13-45", "Patient/zzz",
                    "9999999999", "2026-W48-1"]  # fmt: skip


def _rich_bundle() -> dict[str, Any]:
    return bundle(patient(), condition("I82.412", ICD, onset=ago(20)),
                  med_request("855332", rid="m1"), observation("777-3", 40, "10*3/uL"),
                  procedure("52734007", when=ago(5)), encounter_inpatient())  # fmt: skip


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _set(obj: Any, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def test_any_element_replaced_by_any_json_value_never_crashes() -> None:
    """Every element of a rich bundle, replaced by odd JSON values: only FhirInputError escapes."""
    base = _rich_bundle()
    rng = random.Random(20261125)
    paths = _paths(base)
    for _ in range(1500):
        b = copy.deepcopy(base)
        _set(b, rng.choice(paths), rng.choice(WEIRD))
        try:
            facts = derive(b, at=AT)
            facts.intake()
        except FhirInputError as exc:
            assert exc.errors and all(e.field is not None for e in exc.errors)


@pytest.mark.parametrize("thing", [[], "Bundle", 3, {"resourceType": 3}, {"entry": []}])
def test_not_a_resource_is_a_clear_error(thing: Any) -> None:
    """Input that is not a FHIR resource is refused with a path and a code."""
    with pytest.raises(FhirInputError) as exc:
        facts = derive(thing, at=AT)
        if thing == []:  # an empty list is no data: fine, but there is no patient either
            assert facts.answers == {}
            raise FhirInputError([])
    assert isinstance(exc.value.errors, list)


def _hook(prefetch: Any) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": "h1",
        "context": {"patientId": "p1", "userId": "Practitioner/1"},
        "prefetch": prefetch,
    }


def _call(body: Any) -> Any:
    return handle("clotsafe-patient-view", body, today=AT, config=CardConfig())


def test_cds_request_with_wrong_prefetch_resource_type_is_input_error() -> None:
    """A prefetch 'patient' that is a different patient is refused, never a 500."""
    with pytest.raises(FhirInputError) as exc:
        _call(_hook({"patient": patient("other")}))
    assert exc.value.errors[0].code in ("wrong_patient", "prefetch_missing")


def test_cds_request_that_is_not_a_cds_request_is_input_error() -> None:
    """Missing hook/hookInstance/context: FhirInputError naming each field."""
    with pytest.raises(FhirInputError) as exc:
        _call({"hello": "world"})
    assert {e.field for e in exc.value.errors} >= {"hook", "hookInstance", "context"}


def test_a_ten_megabyte_bundle_is_read_or_refused_cleanly() -> None:
    """A 10 MB bundle of observations is handled (the HTTP layer refuses it with 413)."""
    obs = [observation("8302-2", 170, "cm", rid=f"o{i}", when=ago(i % 300)) for i in range(30000)]
    big = bundle(patient(), *obs)
    assert len(json.dumps(big)) > 10_000_000
    facts = derive(big, at=AT)
    assert facts.answers["height_cm"] == 170.0


def test_questionnaire_response_with_odd_values_anywhere_never_crashes() -> None:
    """Every element of a QuestionnaireResponse replaced by odd JSON: only FhirInputError."""
    from fhir_builders import clot_item, complete_response, tri

    from clotsafe.fhir.response import read_response

    base = complete_response(tri("clot_ever", "yes"), clot_item("dvt", "left_calf", ago(10)),
                             {"linkId": "age", "answer": [{"valueInteger": 40}]})  # fmt: skip
    rng = random.Random(7)
    paths = _paths(base)
    for _ in range(1500):
        qr = copy.deepcopy(base)
        _set(qr, rng.choice(paths), rng.choice(WEIRD))
        try:
            read_response(qr)
        except FhirInputError as exc:
            assert exc.errors


@pytest.mark.parametrize("value", ["9999999999", "99999", "2026-W48-1", "0000-01-01", "2026-02-30"])
def test_a_date_no_calendar_holds_is_not_read_and_never_crashes(value: str) -> None:
    """Every date of a rich bundle (birth, onset, effective, performed, ...) given as a year of
    ten digits (beyond any calendar: an OverflowError escaped before), a week date, year 0 or
    30 February: that date is not read, and nothing but FhirInputError ever escapes."""
    base = _rich_bundle()
    dated = [p for p in _paths(base) if isinstance(_get(base, p), str) and _looks_dated(base, p)]
    assert len(dated) >= 6
    for path in dated:
        b = copy.deepcopy(base)
        _set(b, path, value)
        try:
            derive(b, at=AT).intake()
        except FhirInputError as exc:
            assert exc.errors


def _get(obj: Any, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _looks_dated(obj: Any, path: tuple) -> bool:
    text = _get(obj, path)
    return len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit()
