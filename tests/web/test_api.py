"""The JSON API (docs/api.md): screening, clients, intake links, screenings, clearances and the
audit export, as a practice system calls them with a clinic's token. Fixtures here are shared
with test_api_isolation.py and test_api_schemathesis.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client as HttpClient

from clotsafe.web import engine
from clotsafe.web.api import tokens
from clotsafe.web.api.errors import API_ERROR_CODES
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clients.models import Client
from tests.web.conftest import COMPLETE_NO, days_ago, dvt_answers

pytestmark = pytest.mark.django_db

BASE = "/api/v1"
OLD_CLOT = {
    **COMPLETE_NO,
    "clot_ever": "yes",
    "clots": [
        {"kind": "dvt", "site": "left_calf", "diagnosed_on": "2020-01-01", "treatment": "finished"}
    ],
}


class Api:
    """The Django test client calling the API with one token (or none)."""

    def __init__(self, http: HttpClient, secret: str | None) -> None:
        self.http, self.secret = http, secret

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"} if self.secret else {}

    def call(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **query: Any
    ) -> Any:
        url = path if path.startswith("/") else f"{BASE}/{path}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {"headers": self.headers()}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        elif query:
            kwargs["data"] = query
        return getattr(self.http, method)(url, **kwargs)

    def get(self, path: str, **query: Any) -> Any:
        return self.call("get", path, **query)

    def post(self, path: str, body: Any = None, *, raw: bytes | None = None) -> Any:
        return self.call("post", path, body, raw=raw)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("patch", path, body)


@pytest.fixture(autouse=True)
def _generous_rate(settings: Any) -> None:
    """The rate limit has its own test; elsewhere it never gets in the way."""
    settings.CLOTSAFE_API_RATE = "100000/min"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def make_token(db: None) -> Callable[..., str]:
    def make(user: Any, name: str = "test") -> str:
        return tokens.create(user, name=name)[1]

    return make


@pytest.fixture
def api(client: HttpClient, therapist_a: Any, make_token: Callable[..., str]) -> Api:
    """The API as a therapist of clinic A."""
    return Api(client, make_token(therapist_a))


def errors_of(response: Any) -> list[dict[str, Any]]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for e in body["errors"]:
        assert {"field", "code", "message"} <= set(e), e
    return list(body["errors"])


def intake(answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"screened_on": days_ago(0), "answers": answers, **extra}


# --- POST /screen -------------------------------------------------------------------------


def test_screen_returns_the_engines_decision(api: Api) -> None:
    """Stateless screening gives exactly the decision the engine gives for the same intake."""
    body = intake(dvt_answers())
    response = api.post("screen", body)
    assert response.status_code == 200, response.content
    expected = engine.run(body["answers"], engine_date(body)).decision
    assert response.json() == json.loads(json.dumps(expected))
    assert response.json()["level"] == "clearance_required"


def engine_date(body: dict[str, Any]) -> Any:
    from datetime import date

    return date.fromisoformat(body["screened_on"])


def test_screen_uses_the_callers_clinic_settings(
    api: Api, clinic_a: Any, clinic_b: Any, therapist_b: Any, make_token: Any
) -> None:
    """POLICY §6: the token's clinic settings apply (stricter here), not another clinic's."""
    clinic_a.settings_toml = '[rules.CLOT-HISTORY]\nlevel = "clearance_required"\n'
    clinic_a.save()
    a = api.post("screen", intake(OLD_CLOT)).json()
    b = Api(api.http, make_token(therapist_b)).post("screen", intake(OLD_CLOT)).json()
    assert a["level"] == "clearance_required" and a["settings"] != "default"
    assert b["level"] != "clearance_required"


def test_screen_refuses_a_repeated_key_with_its_path(api: Api) -> None:
    """POLICY 1.1 §8.1: a red-flag answer given twice is refused, never 'the last one wins'."""
    answers = '{"rf_breathless": "yes", "rf_breathless": "no"}'
    raw = f'{{"screened_on": "{days_ago(0)}", "answers": {answers}}}'.encode()
    response = api.post("screen", raw=raw)
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "field": "answers.rf_breathless",
            "code": "duplicate_key",
            "message": errors_of(response)[0]["message"],
        }
    ]


def test_screen_errors_carry_the_engines_codes_and_paths(api: Api) -> None:
    response = api.post("screen", intake({**COMPLETE_NO, "age": "58", "rf_faint": "maybe"}))
    assert response.status_code == 422
    found = {(e["field"], e["code"]) for e in errors_of(response)}
    assert {("answers.age", "wrong_type"), ("answers.rf_faint", "not_allowed_value")} <= found


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000 + b"]" * 5000,  # deep nesting
        b'{"screened_on": "2026-01-01", "answers": {"age": 1e999}}',  # a number out of range
        b'{"screened_on": "2026-01-01", "answers": {"age": 123456789012345678901234567890}}',
        b'{"screened_on": "2026-01-01\\u0000", "answers": {}}',  # NUL
        b'{"screened_on": 20260101, "answers": []}',  # wrong types
        b'"just a string"',
        b"",
        b"\xff\xfe",
        b"{",
    ],
)
def test_hostile_bodies_get_a_4xx_json_error(api: Api, raw: bytes) -> None:
    """Bad input is a clear 4xx naming the problem, never a 500."""
    for path in ("screen", "clients"):
        response = api.post(path, raw=raw)
        assert 400 <= response.status_code < 500, (path, raw[:40], response.status_code)
        errors_of(response)


def test_a_nul_anywhere_is_refused_with_its_path(api: Api) -> None:
    response = api.post("clients", {"name": "Ann\u0000"})
    assert response.status_code == 422
    assert errors_of(response)[0]["field"] == "name"
    assert Client.objects.count() == 0


# --- authentication ---------------------------------------------------------------------


def test_no_token_a_bad_token_and_a_session_are_all_401(
    client: HttpClient, therapist_a: Any, make_token: Any
) -> None:
    """Only a bearer token authenticates: a logged-in browser session does not (no CSRF)."""
    client.force_login(therapist_a)
    for secret in (None, "cs_nope", "Bearer", "x" * 5000):
        response = Api(client, secret).get("clients")
        assert response.status_code == 401
        assert errors_of(response)[0]["code"] == "unauthorized"
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert Api(client, None).post("clients", {"name": "Sneaky"}).status_code == 401
    assert Client.objects.count() == 0


def test_revoked_token_and_deactivated_user_stop_at_once(api: Api, therapist_a: Any) -> None:
    assert api.get("clients").status_code == 200
    therapist_a.is_active = False
    therapist_a.save()
    assert api.get("clients").status_code == 401
    therapist_a.is_active = True
    therapist_a.save()
    token = tokens.authenticate(api.secret or "")
    assert token is not None and token.last_used_at is not None
    tokens.revoke(token, by=None)
    assert api.get("clients").status_code == 401


def test_only_a_hash_of_the_token_is_stored(therapist_a: Any) -> None:
    token, secret = tokens.create(therapist_a, name="booking")
    token.refresh_from_db()
    assert secret not in {token.token_hash, token.prefix, token.name}
    assert token.token_hash == tokens.token_hash(secret) and secret.startswith(token.prefix)


def test_rate_limit_per_token(api: Api, settings: Any, therapist_a: Any, make_token: Any) -> None:
    settings.CLOTSAFE_API_RATE = "3/min"
    codes = [api.get("clients").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("clients")
    assert errors_of(response)[0]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    other = Api(api.http, make_token(therapist_a, "second"))
    assert other.get("clients").status_code == 200  # per token


def test_every_call_is_audited_with_its_outcome(api: Api, clinic_a: Any) -> None:
    before = AuditEvent.objects.filter(action="api").count()
    api.get("clients")
    api.get("clients/999999")
    Api(api.http, "cs_wrong").get("clients")
    events = list(AuditEvent.objects.filter(action="api").order_by("id"))[before:]
    assert [e.detail.rsplit(" ", 1)[-1] for e in events] == ["200", "404", "401"]
    assert events[0].clinic == clinic_a and "API token cs_" in events[0].actor
    assert events[2].clinic is None
    assert all(api.secret not in e.detail and api.secret not in e.actor for e in events)


def test_a_crash_is_a_json_500_and_still_audited(
    api: Api, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No traceback leaves the server, even with DEBUG on; the failed call is in the log."""
    from clotsafe.web.api.routes import clients

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    settings.DEBUG = True
    monkeypatch.setattr(clients.services, "client_list", broken)
    api.http.raise_request_exception = False
    response = api.get("clients")
    assert response.status_code == 500 and b"secret internals" not in response.content
    assert errors_of(response)[0]["code"] == "server_error"
    assert AuditEvent.objects.filter(action="api").last().detail.endswith(": 500")


def test_unknown_route_and_wrong_method_are_json(api: Api) -> None:
    for path in ("nope", f"{BASE}/", "clients/", "clients/abc/links/x"):
        assert errors_of(api.get(path))[0]["code"] == "not_found", path
    response = api.call("delete", "clients")
    assert response.status_code == 405 and errors_of(response)[0]["code"] == "method_not_allowed"


def test_openapi_document_is_public_and_lists_every_route(client: HttpClient) -> None:
    doc = client.get(f"{BASE}/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/screen" in doc["paths"] and "Intake" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_api_error_codes_are_documented() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    for code in API_ERROR_CODES:
        assert f"`{code}`" in text, code


# --- clients ------------------------------------------------------------------------------


def test_create_list_get_update_and_archive_a_client(api: Api, clinic_a: Any) -> None:
    response = api.post(
        "clients",
        {
            "name": "Ann Smith",
            "reference": "R-1",
            "date_of_birth": "1970-05-01",
            "email": "ann@example.org",
        },
    )
    assert response.status_code == 201, response.content
    c = response.json()
    assert c["name"] == "Ann Smith" and c["level"] is None and c["latest_screening"] is None
    assert Client.objects.get(pk=c["id"]).clinic == clinic_a
    page = api.get("clients", q="smi").json()
    assert page["count"] == 1 and page["items"][0]["id"] == c["id"]
    assert api.get(f"clients/{c['id']}").json()["reference"] == "R-1"
    changed = api.patch(f"clients/{c['id']}", {"phone": "0123", "archived": True}).json()
    assert changed["phone"] == "0123" and changed["archived"] and changed["name"] == "Ann Smith"
    assert api.get("clients").json()["count"] == 0
    assert api.get("clients", archived="true").json()["count"] == 1


def test_client_list_filters_by_level(api: Api, clinic_a: Any, make_client: Any) -> None:
    make_client(clinic_a, "Dee", dvt_answers())
    make_client(clinic_a, "Eve", COMPLETE_NO)
    names = [c["name"] for c in api.get("clients", level="clearance_required").json()["items"]]
    assert names == ["Dee"]


def test_client_errors_are_the_web_forms_with_engine_codes(api: Api) -> None:
    """The same rules as the web form (a birth date in the future, no name), field named."""
    response = api.post("clients", {"name": " ", "date_of_birth": "2999-01-01"})
    assert response.status_code == 422
    found = {(e["field"], e["code"]) for e in errors_of(response)}
    assert found == {("name", "missing_field"), ("date_of_birth", "impossible_date")}
    bad = api.post("clients", {"name": "X", "date_of_birth": "2026-02-30", "extra": 1})
    found = {(e["field"], e["code"]) for e in errors_of(bad)}
    assert ("date_of_birth", "bad_date") in found and ("extra", "unknown_field") in found
    assert errors_of(api.post("clients", {}))[0] == {
        "field": "name",
        "code": "missing_field",
        "message": "field required",
    }


# --- intake links -------------------------------------------------------------------------


def test_create_a_link_and_email_it(api: Api, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Fay")
    response = api.post(f"clients/{c.pk}/links", {"email": "fay@example.org"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["link"]["state"] == "open" and body["emailed_to"] == "fay@example.org"
    assert len(mail.outbox) == 1 and body["url"] in mail.outbox[0].body
    assert api.http.get(body["url"]).status_code in (200, 302)
    listed = api.get(f"clients/{c.pk}/links").json()
    assert [k["id"] for k in listed] == [body["link"]["id"]] and "url" not in listed[0]


def test_sending_a_link_gives_it_a_fresh_url(api: Api, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Gil")
    first = api.post(f"clients/{c.pk}/links", {}).json()
    link_id = first["link"]["id"]
    sent = api.post(f"clients/{c.pk}/links/{link_id}/send", {"email": "gil@example.org"})
    assert sent.status_code == 200, sent.content
    assert sent.json()["url"] != first["url"] and sent.json()["url"] in mail.outbox[0].body
    assert api.http.get(first["url"]).status_code in (404, 410)  # the earlier URL stops working
    bad = api.post(f"clients/{c.pk}/links/{link_id}/send", {"email": "not an address"})
    assert errors_of(bad)[0]["field"] == "email"


def test_a_mail_server_that_is_down_is_a_502_naming_the_link(
    api: Api, clinic_a: Any, make_client: Any, settings: Any
) -> None:
    """The link is made; the caller learns it was not e-mailed and how to send it again."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False
    c = make_client(clinic_a, "Ola")
    response = api.post(f"clients/{c.pk}/links", {"email": "ola@example.org"})
    assert response.status_code == 502
    error = errors_of(response)[0]
    link = c.intake_links.get()
    assert error["code"] == "mail_failed" and f"/links/{link.pk}/send" in error["message"]
    assert link.is_open and not link.emailed_at


def test_revoked_link_cannot_be_sent(api: Api, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Hal")
    link_id = api.post(f"clients/{c.pk}/links", {}).json()["link"]["id"]
    assert api.post(f"clients/{c.pk}/links/{link_id}/revoke").json()["state"] == "revoked"
    response = api.post(f"clients/{c.pk}/links/{link_id}/send", {"email": "hal@example.org"})
    assert response.status_code == 409 and errors_of(response)[0]["code"] == "link_closed"
    assert mail.outbox == []


# --- screenings and clearances ------------------------------------------------------------


def test_screenings_of_a_client(api: Api, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Ivy", dvt_answers())
    listed = api.get(f"clients/{c.pk}/screenings").json()
    assert [s["id"] for s in listed] == [c.latest_screening.pk]
    one = api.get(f"screenings/{c.latest_screening.pk}").json()
    assert one["decision"] == json.loads(json.dumps(c.latest_screening.decision))
    assert one["intake"]["answers"]["clot_ever"] == "yes" and one["level"] == "clearance_required"


def test_recording_a_clearance_rescreens_the_client(
    api: Api, clinic_a: Any, make_client: Any
) -> None:
    """POLICY §5: the clearance turns CLOT-ACTIVE into adapt, with the clinician's caps."""
    c = make_client(clinic_a, "Jo", dvt_answers())
    body = {
        "rules": ["CLOT-ACTIVE"],
        "clinician": "Dr Rivera, GP",
        "date": days_ago(0),
        "restrictions": {"pressure_max": {"right_leg": 1}, "avoid": ["abdomen"]},
    }
    response = api.post(f"clients/{c.pk}/clearances", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["screening"]["kind"] == "clearance" and out["screening"]["level"] == "adapt"
    assert out["clearance"]["clinician"] == "Dr Rivera, GP"
    assert [x["id"] for x in api.get(f"clients/{c.pk}/clearances").json()] == [
        out["clearance"]["id"]
    ]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"rules": ["RF-PE"]}, "rules", "rule_not_clearable"),
        ({"rules": ["NOPE"]}, "rules", "unknown_rule"),
        ({"rules": ["CLOT-HISTORY"]}, "rules", "not_allowed_value"),  # not a reason to clear here
        ({"date": "2999-01-01"}, "date", "impossible_date"),
        ({"date": "2026-02-30"}, "date", "bad_date"),
        ({"rules": []}, "rules", "missing_field"),
        ({"clinician": "x" * 201}, "clinician", "out_of_range"),
        (
            {"restrictions": {"pressure_max": {"left_toe": 1}}},
            "restrictions.pressure_max.left_toe",
            "unknown_region",
        ),
        ({"clinician": 5}, "clinician", "wrong_type"),
        ({"date": "2026-01-01", "valid_until": "2025-01-01"}, "valid_until", "impossible_date"),
    ],
)
def test_a_bad_clearance_is_refused_naming_the_field(
    api: Api, clinic_a: Any, make_client: Any, change: dict[str, Any], field: str, code: str
) -> None:
    c = make_client(clinic_a, "Kim", dvt_answers())
    body = {"rules": ["CLOT-ACTIVE"], "clinician": "Dr R", "date": days_ago(0), **change}
    response = api.post(f"clients/{c.pk}/clearances", body)
    assert response.status_code == 422, response.content
    found = errors_of(response)[0]
    assert found["field"] == field and found["code"] == code, found
    c.refresh_from_db()
    assert c.latest_screening.kind == "intake"  # nothing recorded


# --- audit export -------------------------------------------------------------------------


def test_audit_export_is_the_clinics_csv(api: Api, lead_a: Any, make_token: Any) -> None:
    api.post("clients", {"name": "Lou"})
    response = Api(api.http, make_token(lead_a)).get("audit.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("at,") and "API POST /api/v1/clients" in text


# --- before-session re-check --------------------------------------------------------------


def test_recheck_replaces_the_red_flags_and_keeps_the_rest(
    api: Api, clinic_a: Any, make_client: Any
) -> None:
    """POLICY §3: a red flag answered yes today is screened at once; other answers are kept."""
    c = make_client(clinic_a, "Mo", COMPLETE_NO)
    response = api.post(f"clients/{c.pk}/recheck", {"answers": {"rf_breathless": "yes"}})
    assert response.status_code == 201, response.content
    s = response.json()
    assert s["kind"] == "recheck" and s["level"] == s["decision"]["level"] == "emergency"
    assert s["intake"]["answers"]["age"] == COMPLETE_NO["age"]
    assert s["intake"]["answers"]["rf_breathless"] == "yes"


def test_recheck_takes_only_red_flag_answers(api: Api, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Ned", COMPLETE_NO)
    bad = api.post(f"clients/{c.pk}/recheck", {"answers": {"age": 30, "rf_faint": "maybe"}})
    assert bad.status_code == 422
    assert {(e["field"], e["code"]) for e in errors_of(bad)} == {
        ("answers.age", "unknown_question")
    }
    value = api.post(f"clients/{c.pk}/recheck", {"answers": {"rf_faint": "maybe"}})
    assert [(e["field"], e["code"]) for e in errors_of(value)] == [
        ("answers.rf_faint", "not_allowed_value")
    ]
    assert errors_of(api.post(f"clients/{c.pk}/recheck", {}))[0]["code"] == "missing_field"
    c.refresh_from_db()
    assert c.latest_screening.kind == "intake"  # nothing recorded
