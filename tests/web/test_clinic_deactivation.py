"""A clinic the operator deactivates: none of its members opens any page or uses its API
tokens, its clients' intake links close, and reactivating it gives everything back. Its audit
log is kept whole, and stays readable (with the clinic's name) after the clinic is removed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client as Browser
from django.urls import reverse

from clotsafe.web.api import tokens
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.audit.services import log
from clotsafe.web.clients.services import create_link
from clotsafe.web.clinics.models import Clinic
from clotsafe.web.clinics.services import set_clinic_active
from tests.web.test_security import ID_URLS, PUBLIC, _objects, _patterns

pytestmark = pytest.mark.django_db

DEACTIVATED = "This clinic is deactivated"


@pytest.fixture
def operator(db: None) -> Browser:
    browser = Browser()
    browser.force_login(User.objects.create_superuser("operator", password="operator-pass-123"))
    return browser


def _switch(operator: Browser, clinic: Clinic, action: str) -> None:
    """The operator's list action in the admin (``deactivate`` or ``reactivate``)."""
    url = reverse("admin:clotsafe_clinics_clinic_changelist")
    response = operator.post(url, {"action": action, "_selected_action": [clinic.pk]})
    assert response.status_code == 302


def _therapist_urls(clinic: Clinic, make_client: Any, make_member: Any) -> list[tuple[str, str]]:
    """(method, URL) for every therapist page, ids filled with the clinic's own objects."""
    own = _objects(clinic, make_client, make_member, "own")
    found = []
    for p in _patterns():
        if p.name in PUBLIC:
            continue
        url = reverse(p.name, args=ID_URLS[p.name][1](own) if p.name in ID_URLS else [])
        found += [("get", url), ("post", url)]
    return found


def test_no_member_of_a_deactivated_clinic_opens_any_page(
    client: Browser, operator: Browser, clinic_a: Any, lead_a: Any, therapist_a: Any,
    make_client: Any, make_member: Any,
) -> None:  # fmt: skip
    """Every therapist URL (the walk of test_security), read or write, answers 403 with the
    reason, for the lead and for a therapist; nothing is changed by the refused writes."""
    urls = _therapist_urls(clinic_a, make_client, make_member)
    _switch(operator, clinic_a, "deactivate")
    before = AuditEvent.objects.exclude(action__in=["view", "login"]).count()
    opened = []
    for member in (lead_a, therapist_a):
        client.force_login(member)
        for method, url in urls:
            response = getattr(client, method)(url)
            if response.status_code != 403 or DEACTIVATED not in response.content.decode():
                opened.append((member.username, method, url, response.status_code))
    assert opened == [], "\n".join(map(str, opened))
    assert AuditEvent.objects.exclude(action__in=["view", "login"]).count() == before


def test_the_403_page_says_why_and_offers_no_way_back_into_the_app(
    web: Browser, clinic_a: Any
) -> None:
    set_clinic_active(clinic_a, False, by=None)
    page = web.get(reverse("client_list")).content.decode()
    assert "This clinic is deactivated: its pages cannot be opened." in page
    assert "Back to the client list" not in page and "Log out" in page


def test_reactivation_gives_the_pages_back(web: Browser, operator: Browser, clinic_a: Any) -> None:
    _switch(operator, clinic_a, "deactivate")
    assert web.get(reverse("client_list")).status_code == 403
    _switch(operator, clinic_a, "reactivate")
    assert web.get(reverse("client_list")).status_code == 200


def test_a_deactivated_clinics_api_tokens_are_refused_until_reactivated(
    client: Browser, therapist_a: Any, clinic_a: Any
) -> None:
    _, secret = tokens.create(therapist_a, name="booking system")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/clients", headers=headers).status_code == 200
    set_clinic_active(clinic_a, False, by=None)
    assert client.get("/api/v1/clients", headers=headers).status_code == 401
    set_clinic_active(clinic_a, True, by=None)
    assert client.get("/api/v1/clients", headers=headers).status_code == 200


def test_other_clinics_are_not_affected(
    client: Browser, clinic_a: Any, clinic_b: Any, therapist_b: Any
) -> None:
    set_clinic_active(clinic_a, False, by=None)
    client.force_login(therapist_b)
    assert client.get(reverse("client_list")).status_code == 200


def test_each_switch_is_audited_and_the_log_keeps_every_event(
    operator: Browser, clinic_a: Any, lead_a: Any
) -> None:
    """Deactivating and reactivating, by the list actions or by the box on the clinic's page,
    are each recorded in words under the clinic; no earlier event is lost."""
    earlier = [log(clinic_a, lead_a, "view", target_type="client", detail=f"seen {i}").pk
               for i in range(3)]  # fmt: skip
    _switch(operator, clinic_a, "deactivate")
    _switch(operator, clinic_a, "deactivate")  # already so: nothing to record
    _switch(operator, clinic_a, "reactivate")
    page = reverse("admin:clotsafe_clinics_clinic_change", args=[clinic_a.pk])
    form = {"name": "Clinic A", "emergency_number": "999", "units": "metric",
            "members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "1",
            "members-0-id": lead_a.membership.pk, "members-0-clinic": clinic_a.pk,
            "members-0-user": lead_a.pk, "members-0-role": "lead"}  # fmt: skip
    assert operator.post(page, form).status_code == 302  # the box left unticked
    clinic_a.refresh_from_db()
    assert not clinic_a.is_active
    switches = AuditEvent.objects.filter(clinic=clinic_a, detail__startswith="clinic ")
    assert [(e.actor, e.detail) for e in switches] == [
        ("operator", "clinic deactivated"),
        ("operator", "clinic reactivated"),
        ("operator", "clinic deactivated"),
    ]
    assert set(earlier) <= set(AuditEvent.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("how", ["admin", "orm"])
def test_removing_a_clinic_keeps_its_audit_events_readable_with_its_name(
    how: str, operator: Browser, clinic_a: Any, lead_a: Any, make_client: Any
) -> None:
    """Deactivated, then removed (in the admin or in code): its events stay, with its name,
    and the operator still finds them in the admin's audit log."""
    make_client(clinic_a, "Casey")
    events = [log(clinic_a, lead_a, "view", target_type="client", detail="seen").pk]
    set_clinic_active(clinic_a, False, by=None)
    if how == "admin":
        url = reverse("admin:clotsafe_clinics_clinic_delete", args=[clinic_a.pk])
        assert operator.post(url, {"post": "yes"}).status_code == 302
    else:
        Clinic.objects.filter(pk=clinic_a.pk).delete()
    assert not Clinic.objects.exists()
    kept = AuditEvent.objects.filter(clinic_name="Clinic A")
    assert set(events) <= set(kept.values_list("pk", flat=True))
    assert {"clinic deactivated", "seen"} <= set(kept.values_list("detail", flat=True))
    assert all(e.clinic_id is None for e in kept)
    listing = reverse("admin:clotsafe_audit_auditevent_changelist")
    page = operator.get(listing, {"clinic_name": "Clinic A"}).content.decode()
    assert "clinic deactivated" in page and "Clinic A" in page


def test_a_deactivated_clinics_intake_links_are_closed_to_clients(
    client: Browser, clinic_a: Any, make_client: Any
) -> None:
    """The client sees the closed-link page (no form, no answer stored) while the clinic is
    deactivated; the same link opens again once it is reactivated."""
    _, token = create_link(make_client(clinic_a, "Casey"), by=None)
    start = reverse("intake_start", args=[token])
    set_clinic_active(clinic_a, False, by=None)
    closed = client.get(start)
    assert closed.status_code == 410 and "This link no longer works" in closed.content.decode()
    set_clinic_active(clinic_a, True, by=None)
    assert client.get(start).status_code == 200
