"""The API's tenant-isolation guard: every operation of the OpenAPI document

(a) refuses a call without a valid token (none, unknown, revoked) with a 401 JSON error and
    changes nothing;
(b) answers a token of clinic A that names clinic B's objects with a 404 and none of B's data,
    and leaves B's objects as they were; routes without an id show only A's data;
(c) is listed in ROUTES below: a new route (or a new plain view in the API's urls) fails
    test_every_route_is_covered until its isolation is tested here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clotsafe.web.api import tokens
from clotsafe.web.api.models import ApiToken
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clearances.models import Clearance
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.clients.services import create_link
from clotsafe.web.screenings.models import Screening
from tests.web.conftest import days_ago, dvt_answers
from tests.web.test_api import Api, errors_of

pytestmark = pytest.mark.django_db

Objects = dict[str, Any]
#: "METHOD /path" -> (path parameters from a clinic's objects, request body)
ROUTES: dict[str, tuple[Callable[[Objects], dict[str, int]], Any]] = {
    "POST /api/v1/screen": (lambda o: {}, {"screened_on": days_ago(0), "answers": {}}),
    "GET /api/v1/clients": (lambda o: {}, None),
    "POST /api/v1/clients": (lambda o: {}, {"name": "New client"}),
    "GET /api/v1/clients/{client_id}": (lambda o: {"client_id": o["client"].pk}, None),
    "PATCH /api/v1/clients/{client_id}": (
        lambda o: {"client_id": o["client"].pk},
        {"name": "Renamed", "archived": True},
    ),
    "GET /api/v1/clients/{client_id}/links": (lambda o: {"client_id": o["client"].pk}, None),
    "POST /api/v1/clients/{client_id}/links": (
        lambda o: {"client_id": o["client"].pk},
        {"email": "x@example.org"},
    ),
    "POST /api/v1/clients/{client_id}/links/{link_id}/send": (
        lambda o: {"client_id": o["client"].pk, "link_id": o["link"].pk},
        {"email": "x@example.org"},
    ),
    "POST /api/v1/clients/{client_id}/links/{link_id}/revoke": (
        lambda o: {"client_id": o["client"].pk, "link_id": o["link"].pk},
        None,
    ),
    "GET /api/v1/clients/{client_id}/screenings": (lambda o: {"client_id": o["client"].pk}, None),
    "GET /api/v1/screenings/{screening_id}": (
        lambda o: {"screening_id": o["client"].latest_screening.pk},
        None,
    ),
    "GET /api/v1/clients/{client_id}/clearances": (lambda o: {"client_id": o["client"].pk}, None),
    "POST /api/v1/clients/{client_id}/clearances": (
        lambda o: {"client_id": o["client"].pk},
        {"rules": ["CLOT-ACTIVE"], "clinician": "Dr R", "date": days_ago(0)},
    ),
    "GET /api/v1/audit.csv": (lambda o: {}, None),
    "POST /api/v1/clients/{client_id}/recheck": (
        lambda o: {"client_id": o["client"].pk},
        {"answers": {"rf_breathless": "no"}},
    ),
}
#: plain Django views in the API's urls, with their own guard tests below
PLAIN_VIEWS = {"api_token_revoke", "api_not_found"}
SECRET_NAME = "Bee Secretclient"


@pytest.fixture(autouse=True)
def _generous_rate(settings: Any) -> None:
    settings.CLOTSAFE_API_RATE = "100000/min"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def operations(http: HttpClient) -> set[str]:
    doc = http.get("/api/v1/openapi.json").json()
    return {f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item}


def objects(clinic: Any, make_client: Any, name: str) -> Objects:
    client = make_client(clinic, name, dvt_answers())
    link, _ = create_link(client, by=None)
    Clearance.objects.create(
        clinic=clinic,
        client=client,
        rules=["CLOT-ACTIVE"],
        clinician="Dr Known",
        date=client.latest_screening.screened_on,
    )
    return {"client": client, "link": link}


def url(route: str, o: Objects) -> tuple[str, str, Any]:
    method, template = route.split(" ", 1)
    params, body = ROUTES[route]
    return method.lower(), template.format(**params(o)), body


def snapshot(clinic: Any) -> Any:
    """Everything a call could change in a clinic, to prove that nothing did."""
    return (
        list(Client.objects.filter(clinic=clinic).values().order_by("id")),
        list(IntakeLink.objects.filter(client__clinic=clinic).values().order_by("id")),
        list(Screening.objects.filter(clinic=clinic).values_list("id", flat=True).order_by("id")),
        list(Clearance.objects.filter(clinic=clinic).values_list("id", flat=True).order_by("id")),
    )


def test_every_route_is_covered(client: HttpClient) -> None:
    """(c) A new API route fails here until it is added to ROUTES (and so to the tests below)."""
    assert operations(client) == set(ROUTES)
    names = set()

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name:
                names.add(p.name)

    api = next(r for r in get_resolver().url_patterns if str(r.pattern) == "api/v1/")
    walk(api.url_patterns)
    doc = client.get("/api/v1/openapi.json").json()
    operation_ids = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    # every other view mounted under /api/v1/ is a plain view with its own guard test below
    assert names - operation_ids - {"openapi-json", "api-root"} == PLAIN_VIEWS


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_no_valid_token_is_401_and_changes_nothing(
    route: str, client: HttpClient, clinic_a: Any, therapist_a: Any, make_client: Any
) -> None:
    """(a) No token, an unknown one, a revoked one, a deactivated user's: 401 JSON."""
    o = objects(clinic_a, make_client, "Ann")
    revoked, secret = tokens.create(therapist_a)
    tokens.revoke(revoked, by=None)
    _, gone_user = tokens.create(therapist_a)
    before = snapshot(clinic_a)
    method, path, body = url(route, o)
    client.force_login(therapist_a)  # a session never authenticates the API
    for attempt in (None, "cs_" + "A" * 43, secret, "Basic dXNlcjpwYXNz"):
        api = Api(client, attempt)
        response = api.call(method, path, body)
        assert response.status_code == 401, (route, attempt, response.status_code)
        assert errors_of(response)[0]["code"] == "unauthorized"
    therapist_a.is_active = False
    therapist_a.save()
    assert Api(client, gone_user).call(method, path, body).status_code == 401
    assert snapshot(clinic_a) == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_other_clinics_objects_are_404_and_untouched(
    route: str, client: HttpClient, clinic_a: Any, clinic_b: Any, therapist_a: Any, make_client: Any
) -> None:
    """(b) A token of clinic A never reaches clinic B's objects: 404 (or A's own data only)."""
    mine = objects(clinic_a, make_client, "Ann Mine")
    theirs = objects(clinic_b, make_client, SECRET_NAME)
    _, secret = tokens.create(therapist_a)
    api = Api(client, secret)
    before = snapshot(clinic_b)
    method, path, body = url(route, theirs)
    response = api.call(method, path, body)
    text = _text(response)
    if "{" in route:  # names one of B's objects
        assert response.status_code == 404, (route, response.status_code, text[:300])
        assert errors_of(response)[0]["code"] == "not_found"
    else:  # a route without an id: A's data only
        assert response.status_code < 300, (route, response.status_code, text[:300])
        assert str(mine["client"].pk) in text or route.startswith(("POST", "GET /api/v1/audit"))
    assert SECRET_NAME not in text and "Secretclient" not in text
    assert snapshot(clinic_b) == before


def _text(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return str(response.content.decode())


def test_audit_export_holds_only_the_clinics_events(
    client: HttpClient, clinic_a: Any, clinic_b: Any, lead_a: Any, make_client: Any
) -> None:
    objects(clinic_b, make_client, SECRET_NAME)
    AuditEvent.objects.create(
        clinic=clinic_b, actor="someone_in_b", action="view", target_type="client", detail="B only"
    )
    _, secret = tokens.create(lead_a)
    text = _text(Api(client, secret).get("audit.csv"))
    assert "someone_in_b" not in text and "B only" not in text and SECRET_NAME not in text


# --- the Team page's revoke view (plain Django: session, CSRF, lead only) -------------------


def test_token_revoke_is_lead_only_and_scoped(
    client: HttpClient,
    clinic_a: Any,
    lead_a: Any,
    therapist_a: Any,
    make_member: Any,
    clinic_b: Any,
) -> None:
    token, _ = tokens.create(therapist_a)
    path = reverse("api_token_revoke", args=[token.pk])
    client.force_login(therapist_a)
    assert client.post(path).status_code == 403
    client.force_login(make_member(clinic_b, "lead_b", role="lead"))
    assert client.post(path).status_code == 404
    client.force_login(lead_a)
    assert client.get(path).status_code == 405
    client.logout()
    assert client.post(path).status_code == 302  # to the login page
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    client.force_login(lead_a)
    assert client.post(path).status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_token_revoke_needs_the_csrf_token(lead_a: Any, therapist_a: Any) -> None:
    token, _ = tokens.create(therapist_a)
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(lead_a)
    assert browser.post(reverse("api_token_revoke", args=[token.pk])).status_code == 403
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_team_page_lists_the_clinics_tokens_only(
    client: HttpClient, lead_a: Any, therapist_a: Any, therapist_b: Any
) -> None:
    mine, _ = tokens.create(therapist_a, name="booking site")
    theirs, _ = tokens.create(therapist_b, name="other clinic's")
    client.force_login(lead_a)
    page = client.get(reverse("team")).content.decode()
    assert "booking site" in page and mine.prefix in page
    assert "other clinic" not in page and theirs.prefix not in page
    assert reverse("api_token_revoke", args=[mine.pk]) in page
    assert json.dumps(mine.token_hash) not in page and mine.token_hash not in page
