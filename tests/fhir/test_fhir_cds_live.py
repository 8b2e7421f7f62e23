"""The CDS Hooks service over real HTTP on 127.0.0.1, called with httpx as an EHR would."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cds_live import ISS_EC, FakeFhir, Keys, cds_server
from fhir_builders import ICD, PATIENT_ID, ago, condition, med_request, observation, patient

from clotsafe.fhir.cds import PREFETCH
from clotsafe.web.screenings.present import LETTER_QUESTIONS

PV = "clotsafe-patient-view"


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


ORGANISATION = "St Elsewhere Integrative Medicine"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[str]:
    # the fake FHIR server is plain http on loopback: allowed for these tests only
    env = {"CLOTSAFE_CDS_ORGANISATION": ORGANISATION, "CLOTSAFE_CDS_FHIR_ALLOW_HTTP": "1",
           "CLOTSAFE_CDS_FHIR_NETWORKS": "127.0.0.0/8"}  # fmt: skip
    with cds_server(tmp_path_factory.mktemp("cds"), keys, env) as url:
        yield url


def _record() -> list[dict[str, Any]]:
    named = {**patient(), "name": [{"use": "official", "given": ["Ada"], "family": "Lovelace"}]}
    return [named, condition("I82.412", ICD, onset=ago(20), rid="dvt"),
            med_request("855332", rid="warfarin"), observation("8867-4", 88, "/min")]  # fmt: skip


def prefetch(resources: list[dict[str, Any]]) -> dict[str, Any]:
    def search(kind: str) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] == kind],
        }

    kinds = {"conditions": "Condition", "medicationRequests": "MedicationRequest",
             "medicationStatements": "MedicationStatement", "observations": "Observation",
             "procedures": "Procedure", "encounters": "Encounter"}  # fmt: skip
    out: dict[str, Any] = {k: search(v) for k, v in kinds.items()}
    out["patient"] = next(r for r in resources if r["resourceType"] == "Patient")
    return out


def hook(hook_name: str = "patient-view", **extra: Any) -> dict[str, Any]:
    return {
        "hook": hook_name,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": PATIENT_ID},
        **extra,
    }


def post(base: str, keys: Keys, service: str, body: Any, **token_args: Any) -> httpx.Response:
    url = f"{base}/cds-services/{service}"
    headers = {"Authorization": f"Bearer {keys.token(url, **token_args)}"}
    return httpx.post(url, json=body, headers=headers, timeout=30)


def check_card(card: dict[str, Any]) -> None:
    """The CDS Hooks card rules of issue 3."""
    assert len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"] and card["source"]["url"].startswith("http")
    assert card["overrideReasons"] and all(r["code"] for r in card["overrideReasons"])
    assert "**Plan" in card["detail"]


def test_discovery_lists_the_three_services_with_prefetch(base: str) -> None:
    """GET /cds-services describes patient-view, appointment-book and order-select."""
    services = httpx.get(f"{base}/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "appointment-book", "order-select"}
    assert all(s["prefetch"] == PREFETCH for s in services)


def test_patient_view_with_prefetch_and_signed_es384_jwt(base: str, keys: Keys) -> None:
    """A recent DVT on warfarin: a warning card (clearance) naming the rule and the record."""
    resp = post(base, keys, PV, hook(prefetch=prefetch(_record())))
    assert resp.status_code == 200, resp.text
    card = resp.json()["cards"][0]
    check_card(card)
    assert card["indicator"] == "warning"
    assert "CLOT-ACTIVE" in card["summary"]
    assert "Condition/dvt" in card["detail"] and "MedicationRequest/warfarin" in card["detail"]
    assert any("letter" in link["label"].lower() for link in card["links"])


def test_patient_view_without_prefetch_fetches_from_fhir_server_with_bearer(
    base: str, keys: Keys
) -> None:
    """No prefetch: the service fetches from fhirServer, sending the given access token."""
    with FakeFhir(_record()) as fhir:
        body = hook(fhirServer=fhir.url, fhirAuthorization={
            "access_token": "secret-token", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "clotsafe"})  # fmt: skip
        resp = post(base, keys, PV, body)
    assert resp.status_code == 200, resp.text
    assert "CLOT-ACTIVE" in resp.json()["cards"][0]["summary"]
    assert set(fhir.auth_headers) == {"Bearer secret-token"}
    assert any(q.startswith("/fhir/Condition?patient=p1") for q in fhir.queries)


def test_a_loopback_fhir_server_is_refused_without_configuration(tmp_path: Any, keys: Keys) -> None:
    """By default (no CLOTSAFE_CDS_FHIR_* settings) the service never fetches from http or
    from a loopback address, and never sends the token there: 412, one message."""
    with FakeFhir(_record()) as fhir, cds_server(tmp_path, keys) as url:
        body = hook(fhirServer=fhir.url, fhirAuthorization={
            "access_token": "secret-token", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "clotsafe"})  # fmt: skip
        resp = post(url, keys, PV, body)
        https_body = {**body, "fhirServer": fhir.url.replace("http:", "https:")}
        resp_https = post(url, keys, PV, https_body)
    assert resp.status_code == 412 and resp.json()["errors"][0]["code"] == "fhir_server_refused"
    assert resp_https.status_code == 412
    assert resp_https.json()["errors"][0]["message"] == "the FHIR server could not be reached"
    assert fhir.auth_headers == []


def test_missing_prefetch_and_no_fhir_server_is_412(base: str, keys: Keys) -> None:
    """Neither prefetch nor fhirServer: 412 with the missing prefetch keys."""
    resp = post(base, keys, PV, hook())
    assert resp.status_code == 412
    assert {e["field"] for e in resp.json()["errors"]} >= {"prefetch.patient"}


def test_rs384_jwt_is_accepted(base: str, keys: Keys) -> None:
    """RS384 from an allow-listed issuer works too."""
    resp = post(base, keys, PV, hook(prefetch=prefetch(_record())), alg="RS384")
    assert resp.status_code == 200


@pytest.mark.parametrize(
    ("case", "token_args"),
    [("expired", {"exp_in": -600}), ("wrong_issuer", {"iss": "https://evil.example"}),
     ("wrong_key", {"key": "swap"}), ("wrong_aud", {"aud": "https://other/cds-services/x"})],
)  # fmt: skip
def test_bad_jwts_get_a_clear_401(base: str, keys: Keys, case: str, token_args: dict) -> None:
    """Expired, unknown issuer, bad signature, wrong audience: 401 with a message saying why."""
    url = f"{base}/cds-services/{PV}"
    if token_args.get("key") == "swap":
        token_args = {"key": Keys().ec}
    aud = token_args.pop("aud", url)
    token = keys.token(aud, **token_args)
    resp = httpx.post(url, json=hook(prefetch=prefetch(_record())),
                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert resp.status_code == 401
    assert resp.json()["error"] == "unauthorized" and resp.json()["message"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_token_and_replayed_jti_are_401(base: str, keys: Keys) -> None:
    """No Authorization header, and a jti used twice, are refused."""
    url = f"{base}/cds-services/{PV}"
    assert httpx.post(url, json=hook()).status_code == 401
    jti = str(uuid.uuid4())
    body = hook(prefetch=prefetch(_record()))
    assert post(base, keys, PV, body, jti=jti).status_code == 200
    again = post(base, keys, PV, body, jti=jti)
    assert again.status_code == 401 and "replay" in again.json()["message"]


def test_order_select_shows_a_card_only_for_a_massage_order(base: str, keys: Keys) -> None:
    """order-select: a massage ServiceRequest gets the decision; other orders get no card."""

    def order(text: str) -> dict[str, Any]:
        sr = {"resourceType": "ServiceRequest", "id": "sr1", "status": "draft",
              "intent": "order", "code": {"text": text},
              "subject": {"reference": f"Patient/{PATIENT_ID}"}}  # fmt: skip
        ctx = {
            "userId": "Practitioner/1",
            "patientId": PATIENT_ID,
            "selections": ["ServiceRequest/sr1"],
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": sr}]},
        }
        return {
            "hook": "order-select",
            "hookInstance": "x",
            "context": ctx,
            "prefetch": prefetch(_record()),
        }

    svc = "clotsafe-order-select"
    massage = post(base, keys, svc, order("Therapeutic massage")).json()["cards"]
    assert len(massage) == 1 and "CLOT-ACTIVE" in massage[0]["summary"]
    assert post(base, keys, svc, order("Chest X-ray")).json()["cards"] == []


def test_appointment_book_card(base: str, keys: Keys) -> None:
    """appointment-book answers with the same decision card."""
    body = hook("appointment-book", prefetch=prefetch(_record()))
    resp = post(base, keys, "clotsafe-appointment-book", body)
    assert resp.status_code == 200
    check_card(resp.json()["cards"][0])


def test_feedback_is_stored_and_bad_feedback_is_422(base: str, keys: Keys) -> None:
    """The feedback endpoint accepts CDS Hooks feedback and rejects malformed entries."""
    fb = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "overridden",
                        "overrideReason": {"reason": {"code": "clinician-cleared"},
                                           "userComment": "cleared by Dr X"},
                        "outcomeTimestamp": "2026-11-25T10:00:00Z"}]}  # fmt: skip
    assert post(base, keys, f"{PV}/feedback", fb).status_code == 200
    bad = post(base, keys, f"{PV}/feedback", {"feedback": [{"outcome": "maybe"}]})
    assert bad.status_code == 422 and bad.json()["errors"]


def test_issuer_allow_list_is_used(keys: Keys) -> None:
    """The test issuers are the only ones allowed (sanity check of the fixture)."""
    assert ISS_EC in keys.jwks()


def _raw(base: str, keys: Keys, content: bytes) -> httpx.Response:
    url = f"{base}/cds-services/{PV}"
    return httpx.post(url, content=content, timeout=60,
                      headers={"Authorization": f"Bearer {keys.token(url)}",
                               "Content-Type": "application/json"})  # fmt: skip


def test_malformed_http_bodies_get_clear_4xx(base: str, keys: Keys) -> None:
    """Not JSON -> 400; a 10 MB body -> 413; never a 500."""
    assert _raw(base, keys, b"{not json").status_code == 400
    big = prefetch(_record())
    big["observations"]["entry"] += [{"resource": observation("8302-2", 170, "cm", rid=f"o{i}")}
                                     for i in range(40000)]  # fmt: skip
    body = json.dumps(hook(prefetch=big)).encode()
    assert len(body) > 10_000_000
    resp = _raw(base, keys, body)
    assert resp.status_code == 413 and resp.json()["error"] == "too_large"


@pytest.mark.parametrize(
    ("case", "mutate"),
    [("wrong resourceType", lambda p: p.update(patient={"resourceType": 5})),
     ("broken reference", lambda p: p["conditions"]["entry"][0]["resource"].update(
         subject={"reference": "Patient/someone-else"})),
     ("prefetch not an object", lambda p: p.update(conditions="Condition?patient=p1")),
     ("missing codes", lambda p: p["conditions"]["entry"][0]["resource"].pop("code")),
     ("unknown code system", lambda p: p["conditions"]["entry"][0]["resource"].update(
         code={"coding": [{"system": "urn:local", "code": "DVT"}]}))],
)  # fmt: skip
def test_malformed_fhir_in_prefetch_is_4xx_or_a_warning_never_500(
    base: str, keys: Keys, case: str, mutate: Any
) -> None:
    """Structural problems are 422 with paths; unreadable codes are listed on the card."""
    pre = prefetch(_record())
    mutate(pre)
    resp = post(base, keys, PV, hook(prefetch=pre))
    assert resp.status_code in (200, 422), (case, resp.status_code, resp.text[:300])
    if resp.status_code == 422:
        assert resp.json()["errors"][0]["field"].startswith("prefetch.")
    else:
        assert "Not used from the record" in resp.json()["cards"][0]["detail"]


def _pdf_text(content: bytes) -> str:
    pypdf = pytest.importorskip("pypdf", reason="pypdf comes with the test-web extra")
    pages = pypdf.PdfReader(io.BytesIO(content)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


def _letter_link(card: dict[str, Any]) -> dict[str, Any]:
    (link,) = [x for x in card["links"] if x["label"] == "Consultation letter (PDF)"]
    return link


def test_clearance_card_letter_link_gives_the_consultation_letter_pdf(
    base: str, keys: Keys
) -> None:
    """An EHR user (no clotsafe login) follows a clearance_required card's letter link and gets
    the consultation letter: the organisation's letterhead, the patient, the reasons, the
    POLICY §5 questions with room to answer and a signature line."""
    card = post(base, keys, PV, hook(prefetch=prefetch(_record()))).json()["cards"][0]
    link = _letter_link(card)
    assert link["type"] == "absolute"
    # the token is the sealed letter request (made into a letter on this first open)
    assert re.fullmatch(rf"{re.escape(base)}/cds-services/letters/[A-Za-z0-9_-]{{100,1000}}\.pdf",
                        link["url"])  # fmt: skip
    resp = httpx.get(link["url"], timeout=60)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    text = _pdf_text(resp.content)
    for expected in (ORGANISATION, "Ada Lovelace", "1970-05-01", "CLOT-ACTIVE",
                     "Reasons from our screening", *LETTER_QUESTIONS, "Signature"):  # fmt: skip
        assert expected in text, expected


@pytest.mark.parametrize(
    ("level", "record"),
    [("standard", [patient()]),
     ("adapt", [patient(), med_request("855332", rid="warfarin")])],
)  # fmt: skip
def test_standard_and_adapt_cards_have_no_letter_link(
    base: str, keys: Keys, level: str, record: list[dict[str, Any]]
) -> None:
    """Only clearance_required asks a clinician for clearance: no letter link otherwise."""
    card = post(base, keys, PV, hook(prefetch=prefetch(record))).json()["cards"][0]
    rules = {"standard": "clotsafe — Screening incomplete: ask before any massage",
             "adapt": "(MED-ANTICOAG)"}  # fmt: skip
    assert card["summary"].endswith(rules[level]), card["summary"]
    assert not any("letter" in x["label"].lower() for x in card.get("links", []))


def test_unknown_letter_token_is_a_clear_404(base: str) -> None:
    """A made-up or mistyped letter link gets a clear 404 page, never a 500."""
    for token in ("not-a-token", "A" * 43, "x" * 500):
        resp = httpx.get(f"{base}/cds-services/letters/{token}.pdf", timeout=30)
        assert resp.status_code == 404 and "not known" in resp.text


def test_expired_letter_link_is_a_clear_410(tmp_path: Any, keys: Keys) -> None:
    """A letter link past CLOTSAFE_CDS_LETTER_HOURS gets a clear 410 page, never the letter."""
    with cds_server(tmp_path, keys, {"CLOTSAFE_CDS_LETTER_HOURS": "0"}) as url:
        card = post(url, keys, PV, hook(prefetch=prefetch(_record()))).json()["cards"][0]
        resp = httpx.get(_letter_link(card)["url"], timeout=30)
    assert resp.status_code == 410 and "expired" in resp.text
    assert resp.headers["Content-Type"].startswith("text/html")
