"""FHIR input and the CDS Hooks service refuse JSON that names a key twice (POLICY 1.1 §8.1):
the error gives the path into the resource, never a guess and never a 500."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cds_live import Keys, cds_server
from click.testing import CliRunner
from fhir_builders import (
    AT,
    ICD,
    ago,
    bundle,
    complete_response,
    condition,
    med_request,
    patient,
    procedure,
    tri,
)
from tests.domain.test_strictjson import repeat_key

from clotsafe.cli import main
from clotsafe.fhir.client import FhirClient
from clotsafe.fhir.errors import FhirInputError, FhirServerError, NotJson, fhir_json

PV = "clotsafe-patient-view"


def _record() -> list[dict[str, Any]]:
    return [patient(), condition("I82.412", ICD, onset=ago(20), rid="dvt"),
            med_request("855332", rid="warfarin"), procedure("52734007", when=ago(10))]  # fmt: skip


def _errors(exc: pytest.ExceptionInfo[FhirInputError]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


def _item_index(response: dict[str, Any], link_id: str) -> int:
    return next(i for i, item in enumerate(response["item"]) if item["linkId"] == link_id)


# --- resources, Bundles and QuestionnaireResponses ------------------------------------------


def test_bundle_with_a_repeated_code_names_the_path_into_it() -> None:
    """Which of two codes a Condition has is never guessed: entry[3].resource.code is named."""
    doc = bundle(*_record())
    raw = repeat_key(doc, ("entry", 3, "resource", "code"), {"text": "something else"})
    with pytest.raises(FhirInputError) as exc:
        fhir_json(raw)
    assert _errors(exc) == [("entry[3].resource.code", "duplicate_key")]
    assert "'code'" in exc.value.errors[0].message


def test_questionnaire_response_with_a_repeated_answer_is_refused() -> None:
    """A QuestionnaireResponse item whose "answer" is given twice ("yes" then "no") is refused
    with the item's path, so a red flag cannot be overwritten."""
    qr = complete_response(tri("rf_breathless", "yes"))
    i = _item_index(qr, "rf_breathless")
    no = tri("rf_breathless", "no")["answer"]
    with pytest.raises(FhirInputError) as exc:
        fhir_json(repeat_key(qr, ("item", i, "answer"), no))
    assert _errors(exc) == [(f"item[{i}].answer", "duplicate_key")]


def test_repeated_status_and_escaped_spelling() -> None:
    """ "status" given twice, even spelled with an escape, is the same key: refused."""
    qr = complete_response()
    with pytest.raises(FhirInputError) as exc:
        fhir_json(repeat_key(qr, ("status",), "entered-in-error", escaped=True))
    assert _errors(exc) == [("status", "duplicate_key")]


def test_not_json_is_not_json() -> None:
    """Text that is not JSON stays invalid_json (HTTP 400 at the service), not duplicate_key."""
    with pytest.raises(NotJson) as exc:
        fhir_json(b'{"resourceType": ')
    assert _errors(exc)[0] == ("", "invalid_json")


def test_urls_and_clean_resources_still_decode() -> None:
    """FHIR is full of colons (URLs, times): a resource without repeats decodes unchanged."""
    qr = complete_response(tri("rf_breathless", "yes"))
    assert fhir_json(json.dumps(qr)) == qr


# --- clotsafe screen --fhir -----------------------------------------------------------------


def _screen_fhir(raw: bytes, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["screen", "--fhir", "-", *args], input=raw)
    return r.exit_code, r.stdout, r.stderr


def test_cli_screen_fhir_questionnaire_response_with_a_repeat() -> None:
    """`clotsafe screen --fhir` on a response answering a red flag twice exits 1 naming the
    item, and prints no decision."""
    qr = complete_response(tri("rf_breathless", "yes"))
    i = _item_index(qr, "rf_breathless")
    raw = repeat_key(qr, ("item", i, "answer"), tri("rf_breathless", "no")["answer"])
    code, out, err = _screen_fhir(raw)
    assert code == 1 and out == ""
    assert f"error: item[{i}].answer: " in err and "[duplicate_key]" in err


def test_cli_screen_fhir_ehr_bundle_with_a_repeat_as_json() -> None:
    """`clotsafe screen --fhir --on DATE --format json` on EHR data with a repeated onset gives a
    JSON error whose field is the path into the Bundle."""
    raw = repeat_key(bundle(*_record()), ("entry", 1, "resource", "onsetDateTime"), ago(900))
    code, out, err = _screen_fhir(raw, "--on", AT.isoformat(), "--format", "json")
    assert code == 1 and out == ""
    (error,) = json.loads(err)["errors"]
    assert (error["field"], error["code"]) == ("entry[1].resource.onsetDateTime", "duplicate_key")


def test_cli_screen_fhir_clean_input_still_screens() -> None:
    """Without repeats, --fhir screens as before (a recent DVT needs clearance)."""
    code, out, _ = _screen_fhir(
        json.dumps(bundle(*_record())).encode(), "--on", AT.isoformat(), "--format", "json"
    )
    assert code == 0 and json.loads(out)["level"] == "clearance_required"


# --- the FHIR server's answers ----------------------------------------------------------------


def test_fhir_server_answer_with_a_repeat_is_a_server_error() -> None:
    """A FHIR server answer that names a key twice is not used (412 at the service), with the
    query and the path into the answer."""
    searchset = {"resourceType": "Bundle", "type": "searchset",
                 "entry": [{"resource": condition("I82.412", ICD, onset=ago(20))}]}  # fmt: skip
    raw = repeat_key(searchset, ("entry", 0, "resource", "clinicalStatus"), {})

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw, headers={"Content-Type": "application/fhir+json"})

    client = FhirClient("http://ehr.example/fhir", transport=httpx.MockTransport(answer))
    with pytest.raises(FhirServerError) as exc:
        client.get("Condition?patient=p1")
    assert [(e.field, e.code) for e in exc.value.errors] == [
        ("fhirServer/Condition?patient=p1.entry[0].resource.clinicalStatus", "duplicate_key")
    ]


# --- the CDS Hooks service over HTTP ----------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[str]:
    pytest.importorskip("django")
    pytest.importorskip("waitress")
    with cds_server(tmp_path_factory.mktemp("cds-dup"), keys) as url:
        yield url


def _post_raw(base: str, keys: Keys, service: str, content: bytes) -> httpx.Response:
    url = f"{base}/cds-services/{service}"
    headers = {"Authorization": f"Bearer {keys.token(url)}", "Content-Type": "application/json"}
    return httpx.post(url, content=content, headers=headers, timeout=60)


def _hook(**extra: Any) -> dict[str, Any]:
    search = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": r} for r in _record()[1:2]]}  # fmt: skip
    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    prefetch = {"patient": patient(), "conditions": search, "medicationRequests": empty,
                "medicationStatements": empty, "observations": empty, "procedures": empty,
                "encounters": empty}  # fmt: skip
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1"},
            "prefetch": prefetch, **extra}  # fmt: skip


def test_cds_hook_body_with_a_repeated_key_is_422_with_the_path(base: str, keys: Keys) -> None:
    """A hook call whose prefetched Condition names its code twice gets the service's JSON
    error (422, errors[] with the path into the body), no card and never a 500."""
    body = _hook()
    ok = _post_raw(base, keys, PV, json.dumps(body).encode())
    assert ok.status_code == 200 and "CLOT-ACTIVE" in ok.json()["cards"][0]["summary"]
    path = ("prefetch", "conditions", "entry", 0, "resource", "code")
    resp = _post_raw(base, keys, PV, repeat_key(body, path, {"text": "nothing"}))
    assert resp.status_code == 422, resp.text
    data = resp.json()
    assert data["error"] == "invalid_input" and "cards" not in data
    assert [(e["field"], e["code"]) for e in data["errors"]] == [
        ("prefetch.conditions.entry[0].resource.code", "duplicate_key")
    ]
    assert "{" not in data["message"] and "{" not in data["errors"][0]["message"]


def test_cds_hook_repeated_patient_context_is_refused(base: str, keys: Keys) -> None:
    """Two "context" objects (two patients?) are refused, not read as the last one."""
    body = _hook()
    other = {"userId": "Practitioner/1", "patientId": "someone-else"}
    resp = _post_raw(base, keys, PV, repeat_key(body, ("context",), other))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "context"


def test_cds_feedback_body_with_a_repeated_key_is_422(base: str, keys: Keys) -> None:
    """Feedback whose outcome is given twice ("accepted", "overridden") is refused."""
    fb = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted",
                        "outcomeTimestamp": "2026-11-25T10:00:00Z"}]}  # fmt: skip
    resp = _post_raw(base, keys, f"{PV}/feedback",
                     repeat_key(fb, ("feedback", 0, "outcome"), "overridden"))  # fmt: skip
    assert resp.status_code == 422
    (error,) = resp.json()["errors"]
    assert (error["field"], error["code"]) == ("feedback[0].outcome", "duplicate_key")


def test_cds_body_not_json_is_still_400(base: str, keys: Keys) -> None:
    """Not JSON keeps its documented answer: 400 {"error": "invalid_json"}."""
    resp = _post_raw(base, keys, PV, b"{not json")
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_json", "message": "the body is not JSON"}


# --- the CDS service's issuers file -----------------------------------------------------------


def test_issuers_file_with_a_repeated_issuer_stops_the_service(tmp_path: Path) -> None:
    """An issuer allow-list naming one issuer twice (which keys are trusted?) is a
    configuration error naming the file and the issuer, not a silent choice."""
    pytest.importorskip("django")
    from django.core.exceptions import ImproperlyConfigured

    from clotsafe.web.cds.conf import _issuers

    path = tmp_path / "issuers.json"
    path.write_bytes(
        repeat_key({"https://ehr.example": {"keys": []}}, ("https://ehr.example",), {})
    )
    with pytest.raises(ImproperlyConfigured, match="duplicate_key") as exc:
        _issuers(str(path))
    assert str(path) in str(exc.value) and "https://ehr.example" in str(exc.value)
    path.write_text(json.dumps({"https://ehr.example": {"keys": []}}))
    assert _issuers(str(path)) == {"https://ehr.example": {"keys": []}}
