"""The CDS Hooks service never breaks: whatever an EHR holding a valid JWT sends, the answer is
the documented JSON (4xx with the path of the problem, or the card), never a 500 and never an
HTML page; and every hook call is audited.

Each defect below was found by fuzzing the service with valid JWTs (issue 10 §3) and has its
own test; ``test_fuzzed_calls_with_valid_jwts_never_get_a_server_error`` is the bounded fuzzer
itself. In-process (Django's test client) on the web app's settings: SQLite, or PostgreSQL when
CLOTSAFE_DATABASE_URL is set (where NUL characters and over-long strings used to fail).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import cds_django  # noqa: F401  (sets Django up: before the imports below)
import jwt
import pytest
from cds_live import ISS_EC, Keys
from fhir_builders import ICD, PATIENT_ID, ago, condition, med_request, patient

from clotsafe.fhir.errors import problem
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.cds.audit import patient_hash
from clotsafe.web.cds.models import CardFeedback, ConsultationLetter, SeenJti

# the fixtures keys and cds: tests/fhir/conftest.py
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cds")]

PV, OS, AB = "clotsafe-patient-view", "clotsafe-order-select", "clotsafe-appointment-book"
HOOKS = {PV: "patient-view", OS: "order-select", AB: "appointment-book"}


def _url(service: str, feedback: bool = False) -> str:
    return f"/cds-services/{service}" + ("/feedback" if feedback else "")


def post(client: Any, keys: Keys, service: str, body: Any = None, *, raw: bytes | None = None,
         feedback: bool = False, token: str | None = None, **claims: Any) -> Any:  # fmt: skip
    """POST with a valid ES384 JWT for this endpoint (``claims`` change jti, exp_in, ...)."""
    url = _url(service, feedback)
    token = token or keys.token(f"http://testserver{url}", **claims)
    data = raw if raw is not None else json.dumps(body).encode()
    return client.generic("POST", url, data, content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip


def assert_json_error(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.content[:300]
    assert resp["Content-Type"] == "application/json"
    body = resp.json()
    assert body["error"] == code, body
    return dict(body)


def record(name: str = "Ada Lovelace") -> dict[str, Any]:
    named = {**patient(), "name": [{"use": "official", "text": name}]}
    resources = [condition("I82.412", ICD, onset=ago(20), rid="dvt"), med_request("855332")]

    def search(kind: str) -> dict[str, Any]:
        hits = [{"resource": r} for r in resources if r["resourceType"] == kind]
        return {"resourceType": "Bundle", "type": "searchset", "entry": hits}

    out = {k: search(v) for k, v in (("conditions", "Condition"),
                                     ("medicationRequests", "MedicationRequest"),
                                     ("medicationStatements", "MedicationStatement"),
                                     ("observations", "Observation"), ("procedures", "Procedure"),
                                     ("encounters", "Encounter"))}  # fmt: skip
    return {"patient": named, **out}


def hook(service: str = PV, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": "Practitioner/1", "patientId": PATIENT_ID}
    if service == OS:
        context |= {"selections": ["ServiceRequest/sr1"], "draftOrders": {
            "resourceType": "Bundle", "entry": [{"resource": {
                "resourceType": "ServiceRequest", "id": "sr1", "status": "draft",
                "intent": "order", "code": {"text": "Therapeutic massage"}}}]}}  # fmt: skip
    body = {"hook": HOOKS[service], "hookInstance": str(uuid.uuid4()), "context": context,
            "prefetch": record()}  # fmt: skip
    return body | extra


def feedback_body(**extra: Any) -> dict[str, Any]:
    item = {"card": str(uuid.uuid4()), "outcome": "overridden",
            "overrideReason": {"reason": {"system": "https://x", "code": "clinician-cleared"},
                               "userComment": "seen"},
            "outcomeTimestamp": "2026-11-25T10:00:00Z"}  # fmt: skip
    return {"feedback": [item | extra]}


# --- each defect the fuzzer found -------------------------------------------------------------


@pytest.mark.parametrize("where", ["hook", "context", "prefetch"])
def test_json_nested_a_thousand_levels_is_a_json_422(client: Any, keys: Keys, where: str) -> None:
    """A body nested ~1,000 levels (orjson reads up to 1,024) used to end in a RecursionError
    in fhir/errors.py while echoing what arrived (a 500 page); now a 4xx JSON error."""
    deep = "[" * 1000 + "]" * 1000
    body = json.dumps(hook()).encode()
    if where == "hook":
        raw = body.replace(b'"hook": "patient-view"', b'"hook": ' + deep.encode())
    elif where == "context":
        raw = body.replace(b'"context": {', b'"context": {"x": ' + deep.encode() + b", ")
    else:
        raw = body.replace(b'"prefetch": {', b'"prefetch": {"x": ' + deep.encode() + b", ")
    resp = post(client, keys, PV, raw=raw)
    assert resp.status_code in (200, 412, 422), resp.content[:300]
    assert resp["Content-Type"] == "application/json"


def test_a_deeply_nested_value_is_never_echoed_with_str() -> None:
    """What arrived (``got``) is measured without ``str()``: no RecursionError, and a value too
    big or too deep to echo is left out."""
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    assert problem("hook", "invalid_fhir", "bad", deep).got is None
    assert problem("hook", "invalid_fhir", "bad", "x" * 1000).got.endswith("…")


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"selections": {"ServiceRequest/sr1": True}}, "context.selections"),
        ({"selections": 5}, "context.selections"),
        ({"selections": [5]}, "context.selections[0]"),
        ({"selections": [{"a": 1}]}, "context.selections[0]"),
        ({"draftOrders": 7}, "context.draftOrders"),
        ({"userId": 12}, "context.userId"),
        ({"patientId": 12}, "context.patientId"),
    ],
)
def test_context_values_of_the_wrong_type_are_a_json_422(
    client: Any, keys: Keys, context: dict[str, Any], field: str
) -> None:
    """``selections`` holding an object or a number (a TypeError in fhir/cds.py, 500), numbers
    where strings or lists belong: a 422 naming the field."""
    body = hook(OS)
    body["context"] |= context
    body = assert_json_error(post(client, keys, OS, body), 422, "invalid_input")
    assert field in [e["field"] for e in body["errors"]]


def test_a_token_whose_exp_is_above_2_to_the_63_is_a_json_401(client: Any, keys: Keys) -> None:
    """``exp`` = 2⁶⁴ overflowed the database integer (500). CDS Hooks allows at most five
    minutes: such a token is refused before anything is stored."""
    resp = post(client, keys, PV, hook(), exp_in=2**64)
    body = assert_json_error(resp, 401, "unauthorized")
    assert "five minutes" in body["message"]
    assert not SeenJti.objects.exists()


def test_a_jti_over_255_characters_is_a_json_401(client: Any, keys: Keys) -> None:
    """PostgreSQL refused a jti longer than its column (500); now a clear 401."""
    resp = post(client, keys, PV, hook(), jti="j" * 256)
    assert_json_error(resp, 401, "unauthorized")


def test_a_jti_of_255_characters_with_nul_is_accepted_once(client: Any, keys: Keys) -> None:
    """Any jti up to 255 characters, NUL included, is kept as its hash (PostgreSQL refused NUL
    in text); the replay is still refused."""
    jti = "a\x00" + "b" * 253
    assert post(client, keys, PV, hook(), jti=jti).status_code == 200
    assert_json_error(post(client, keys, PV, hook(), jti=jti), 401, "unauthorized")
    assert all(len(s.jti) == 64 for s in SeenJti.objects.all())


def test_nul_in_hook_instance_names_and_feedback_is_stored(client: Any, keys: Keys) -> None:
    """NUL characters in ``hookInstance``, the patient's name and feedback (refused by
    PostgreSQL: 500) are stored as U+FFFD."""
    body = hook(hookInstance="hook\x00one")
    body["prefetch"]["patient"]["name"][0]["text"] = "Ada\x00Lovelace"
    resp = post(client, keys, PV, body)
    assert resp.status_code == 200, resp.content[:300]
    link = resp.json()["cards"][0]["links"][0]["url"].removeprefix("http://testserver")
    assert client.get(link).status_code == 200  # the letter is made on first open
    letter = ConsultationLetter.objects.get()
    assert (letter.hook_instance, letter.patient_name) == ("hook\ufffdone", "Ada\ufffdLovelace")
    fb = feedback_body(card="card\x00", overrideReason={
        "reason": {"system": "s\x00", "code": "c\x00"}, "userComment": "no\x00te"})  # fmt: skip
    assert post(client, keys, PV, fb, feedback=True).status_code == 200
    stored = CardFeedback.objects.get()
    assert stored.user_comment == "no\ufffdte" and stored.card_uuid == "card\ufffd"
    assert "\x00" not in json.dumps(stored.raw)


def test_over_long_feedback_fields_are_a_json_422(client: Any, keys: Keys) -> None:
    """Feedback strings longer than their columns are refused with their path (PostgreSQL
    refused them with a 500)."""
    resp = post(client, keys, PV, feedback_body(card="c" * 101), feedback=True)
    body = assert_json_error(resp, 422, "invalid_input")
    assert body["errors"][0]["field"] == "feedback[0].card"


@pytest.mark.parametrize("megabytes", [3, 6])
def test_bodies_over_the_limit_get_one_json_413(client: Any, keys: Keys, megabytes: int) -> None:
    """Between Django's 2.5 MB (DATA_UPLOAD_MAX_MEMORY_SIZE) and the CDS 5 MB limit a body got
    Django's HTML 400 page; every body over the effective limit now gets the same JSON."""
    raw = b'{"x": "' + b"a" * (megabytes * 1024 * 1024) + b'"}'
    body = assert_json_error(post(client, keys, PV, raw=raw), 413, "too_large")
    assert body["message"] == "request body over 2621440 bytes"


def test_wrong_method_and_unknown_service_are_json(client: Any, keys: Keys) -> None:
    """GET on a hook endpoint is a JSON 405 (was an empty HTML-less 405), an unknown service a
    JSON 404."""
    resp = client.get(_url(PV))
    assert_json_error(resp, 405, "method_not_allowed")
    assert resp["Allow"] == "POST"
    assert_json_error(post(client, keys, "nope", hook()), 404, "unknown_service")


def test_an_unexpected_error_is_logged_json_never_an_html_page(
    client: Any, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort: a bug gives a JSON 500 (and a log line), not Django's HTML page."""
    from clotsafe.web.cds import views

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setattr(views, "handle", boom)
    assert_json_error(post(client, keys, PV, hook()), 500, "internal_error")


# --- every hook call is audited ----------------------------------------------------------------


def test_every_hook_call_is_audited_with_a_hash_of_the_patient(client: Any, keys: Keys) -> None:
    """Issuer, service and hook, hook instance, a keyed hash of the patient id (never the id)
    and the outcome, for answered calls and refused ones alike."""
    ok = hook(hookInstance="hi-ok")
    assert post(client, keys, PV, ok).status_code == 200
    bad = hook(hookInstance="hi-bad")
    bad["context"]["selections"] = 5
    post(client, keys, OS, bad | {"hook": "order-select"})
    post(client, keys, PV, hook(hookInstance="hi-401"), token="not-a-jwt")
    events = list(AuditEvent.objects.filter(target_type="cds_hook").order_by("id"))
    assert len(events) == 3
    first, second, third = (e.detail for e in events)
    assert events[0].actor == f"cds:{ISS_EC}" and events[0].clinic is None
    assert "hi-ok" in first and "200 card clearance_required" in first
    assert patient_hash(PATIENT_ID) in first and PATIENT_ID not in first.split("hash")[1]
    assert "hi-bad" in second and "422 invalid_input" in second
    assert events[2].actor == "cds:-" and "401 unauthorized" in third


def test_without_the_audit_app_hook_calls_are_kept_in_the_cds_app(
    client: Any, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CDS service alone (no audit app) audits each call in its own table."""
    from django.apps import apps

    from clotsafe.web.cds.models import HookCall

    real = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name != "clotsafe.web.audit"
                        and real(name))  # fmt: skip
    post(client, keys, PV, hook(hookInstance="alone"))
    call = HookCall.objects.get()
    assert (call.issuer, call.hook, call.hook_instance) == (ISS_EC, "patient-view", "alone")
    assert call.patient_hash == patient_hash(PATIENT_ID) and call.status == 200


# --- the fuzzer ----------------------------------------------------------------------------------

ODD: list[Any] = [None, True, 0, -1, 2**63, 2**64, 1.5e308, "", "\x00", "x" * 300, "\ud7ff",
                  [], {}, [None], {"resourceType": "Bundle"}, {"resourceType": 5}, {"entry": 5},
                  [[[]]], "Patient/p1", "2026-13-45", "[x](javascript:alert(1))"]  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = value
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = new
    return value


DEEP = "(nested hundreds of levels)"


def mutate(rng: random.Random, body: Any) -> bytes:
    """One to three changes: a node replaced by an odd value, deleted, nested deep, or the
    text cut or its bytes broken."""
    body = json.loads(json.dumps(body))
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(body))
        path = rng.choice(paths)
        roll = rng.random()
        if roll < 0.6:
            body = _set(body, path, rng.choice(ODD))
        elif roll < 0.75 and path:
            parent = body
            for part in path[:-1]:
                parent = parent[part]
            del parent[path[-1]]
        elif roll < 0.85:
            body = _set(body, path, DEEP)
        else:
            body = _set(body, path, "\x00" * rng.randint(1, 3) + "é" * rng.randint(0, 400))
    raw = json.dumps(body).encode()
    depth = rng.randint(200, 1020)
    raw = raw.replace(json.dumps(DEEP).encode(), b"[" * depth + b"]" * depth)
    roll = rng.random()
    if roll < 0.05:
        raw = raw[: rng.randint(0, len(raw))]
    elif roll < 0.08:
        raw = raw.replace(b'"', b'"\xff', 1)
    return raw


FUZZ_REQUESTS = 1200


def test_fuzzed_calls_with_valid_jwts_never_get_a_server_error(client: Any, keys: Keys) -> None:
    """1,200 seeded mutations of hook and feedback bodies for every service, each with a valid
    JWT (and now and then an odd jti): every answer is JSON and below 500."""
    rng = random.Random(20261130)
    statuses: dict[int, int] = {}
    signer, kid = keys.ec, "ec-1"
    for n in range(FUZZ_REQUESTS):
        service = rng.choice((PV, PV, OS, AB))
        is_feedback = rng.random() < 0.25
        url = _url(service, is_feedback)
        now = int(time.time())
        jti = rng.choice([str(uuid.uuid4())] * 8 + ["\x00" + str(n), "é" * 255 + str(n)])
        token = jwt.encode({"iss": ISS_EC, "aud": f"http://testserver{url}", "iat": now,
                            "exp": now + 300, "jti": jti}, signer, algorithm="ES384",
                           headers={"kid": kid})  # fmt: skip
        base = feedback_body() if is_feedback else hook(service)
        resp = post(client, keys, service, raw=mutate(rng, base), feedback=is_feedback,
                    token=token)  # fmt: skip
        assert resp.status_code < 500, (n, resp.content[:500])
        assert resp["Content-Type"] == "application/json", (n, resp.content[:200])
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
    assert sum(statuses.values()) == FUZZ_REQUESTS
    assert statuses.get(200, 0) > 50 and statuses.get(422, 0) > 50, statuses
