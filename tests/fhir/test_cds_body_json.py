"""The body of a full-size hook call (the 225 KB Synthea prefetch the speed benchmark sends) is
refused whole when any object in it names a key twice, wherever that object is: the top level,
a Condition the reader passes over (which the service drops before reading, issue 10 §4), a
coding nested inside one, a resource the reader reads. The answer is the documented 422 with
the key's path (POLICY 1.1 §8.1), the same whichever check inside the decoder finds the key;
nesting too deep for a check is still a JSON answer, never a 500. These pin the behaviour any
faster decoding of the body must keep."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import cds_django  # noqa: F401  (sets Django up: before the imports below)
import pytest
from cds_live import Keys
from tests.domain.test_strictjson import repeat_key

from clotsafe.fhir.codes import SNOMED, code_lists

# the fixtures keys and cds: tests/fhir/conftest.py
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cds")]

URL = "/cds-services/clotsafe-patient-view"
SYNTHEA = Path(__file__).parent.parent / "fixtures" / "fhir" / "synthea" / "synthea-5aa60e91.json"
KINDS = {"conditions": "Condition", "medicationRequests": "MedicationRequest",
         "medicationStatements": "MedicationStatement", "observations": "Observation",
         "procedures": "Procedure", "encounters": "Encounter"}  # fmt: skip


def full_hook() -> dict[str, Any]:
    """patient-view with the whole Synthea record as prefetch (as benchmarks/cds sends it)."""
    resources = [e["resource"] for e in json.loads(SYNTHEA.read_text())["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch: dict[str, Any] = {"patient": patient}
    for key, kind in KINDS.items():
        hits = [{"resource": r} for r in resources if r["resourceType"] == kind]
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": hits}
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": patient["id"]},
            "prefetch": prefetch}  # fmt: skip


def post(client: Any, keys: Keys, raw: bytes) -> Any:
    token = keys.token(f"http://testserver{URL}")
    return client.generic("POST", URL, raw, content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip


def unread_condition(hook: dict[str, Any]) -> int:
    """The index of a Condition the service drops before reading (SNOMED, on no list)."""
    listed = code_lists().snomed_conditions
    for i, entry in enumerate(hook["prefetch"]["conditions"]["entry"]):
        codings = entry["resource"]["code"]["coding"]
        if all(c.get("system") == SNOMED and c["code"] not in listed for c in codings):
            return i
    raise AssertionError("no unread Condition in the fixture")


def duplicate_error(field: str, key: str) -> dict[str, Any]:
    """The one documented answer to a key named twice (as it was before issue 10 §4)."""
    message = (f"the key {key!r} is given more than once in the same object; clotsafe never "
               "guesses which one is meant: send it once")  # fmt: skip
    return {"field": field, "code": "duplicate_key", "message": message}


def test_the_full_body_without_a_repeat_gets_its_card(client: Any, keys: Keys) -> None:
    resp = post(client, keys, json.dumps(full_hook()).encode())
    assert resp.status_code == 200, resp.content[:300]
    (card,) = resp.json()["cards"]
    assert "CLOT-ACTIVE" in card["summary"]


def _cases(hook: dict[str, Any]) -> list[tuple[tuple[str | int, ...], Any, bool]]:
    i = unread_condition(hook)
    cond = ("prefetch", "conditions", "entry", i, "resource")
    med = ("prefetch", "medicationRequests", "entry", 0, "resource")
    return [
        (("hook",), "order-select", False),
        (("context", "patientId"), "someone-else", False),
        ((*cond, "subject"), {"reference": "Patient/other"}, False),
        ((*cond, "code", "coding", 0, "code"), "128053003", False),
        ((*cond, "code", "coding", 0, "system"), SNOMED, True),
        ((*med, "status"), "stopped", False),
        (("prefetch", "patient", "birthDate"), "1901-01-01", True),
    ]


@pytest.mark.parametrize("case", range(7))
def test_a_key_named_twice_anywhere_in_the_full_body_is_refused(
    client: Any, keys: Keys, case: int
) -> None:
    """Top level, context, a Condition the reader never reads (its subject; a code nested in
    its coding, plainly or spelled with an escape), a MedicationRequest, the Patient: the same
    422 with that key's path, and no card."""
    hook = full_hook()
    path, value, escaped = _cases(hook)[case]
    resp = post(client, keys, repeat_key(hook, path, value, escaped=escaped))
    assert resp.status_code == 422, resp.content[:300]
    body = resp.json()
    assert body["error"] == "invalid_input" and "cards" not in body
    field = ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")
    assert body["errors"] == [duplicate_error(field, str(path[-1]))]


def test_a_repeat_in_a_body_with_an_escaped_colon_is_refused(client: Any, keys: Keys) -> None:
    """A ``\\u003a`` (an escaped colon) anywhere sends the decoder down its other check; the
    repeat in an unread Condition is refused all the same."""
    hook = full_hook()
    hook["hookInstance"] = "urn:uuid:x"
    i = unread_condition(hook)
    path = ("prefetch", "conditions", "entry", i, "resource", "onsetDateTime")
    raw = repeat_key(hook, path, "2000-01-01").replace(b"urn:uuid:x", b"urn\\u003auuid\\u003ax")
    resp = post(client, keys, raw)
    assert resp.status_code == 422, resp.content[:300]
    field = f"prefetch.conditions.entry[{i}].resource.onsetDateTime"
    assert resp.json()["errors"] == [duplicate_error(field, "onsetDateTime")]


def _nested(depth: int, inner: str) -> str:
    return '{"a": ' * depth + inner + "}" * depth


@pytest.mark.parametrize("depth", [300, 900])
def test_a_repeat_nested_deeper_than_the_fast_check_goes_is_still_refused(
    client: Any, keys: Keys, depth: int
) -> None:
    """Objects nested 300 or 900 deep inside an unread Condition's extension, with a key
    repeated at the bottom: deeper than the fast check re-encodes (255 levels), so the other
    checks decide; the answer is the same 422, its path the whole way down."""
    hook = full_hook()
    i = unread_condition(hook)
    hook["prefetch"]["conditions"]["entry"][i]["resource"]["extension"] = "NESTED"
    inner = '{"url": "u", "url": "v"}'
    raw = json.dumps(hook).encode().replace(b'"NESTED"', _nested(depth, inner).encode())
    resp = post(client, keys, raw)
    assert resp.status_code == 422, resp.content[:300]
    field = f"prefetch.conditions.entry[{i}].resource.extension" + ".a" * depth + ".url"
    assert resp.json()["errors"] == [duplicate_error(field, "url")]


def test_a_body_nested_deeper_than_json_is_read_gets_the_json_error(
    client: Any, keys: Keys
) -> None:
    """2,000 levels (orjson reads 1,024) in an unread Condition: the documented 400
    invalid_json, never a 500."""
    hook = full_hook()
    i = unread_condition(hook)
    hook["prefetch"]["conditions"]["entry"][i]["resource"]["extension"] = "NESTED"
    raw = json.dumps(hook).encode().replace(b'"NESTED"', b"[" * 2000 + b"]" * 2000)
    resp = post(client, keys, raw)
    assert resp.status_code == 400, resp.content[:300]
    assert resp["Content-Type"] == "application/json"
    assert resp.json() == {"error": "invalid_json", "message": "the body is not JSON"}
