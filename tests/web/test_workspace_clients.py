"""Issue 8 §2 clients: edit, search by name or reference, archive; a client page with date of
birth and contact details (the clinic's own data, audited, with length limits on every text
field); clinic settings as a form; a 403 page with the app's navigation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clients.models import Client

pytestmark = pytest.mark.django_db


def test_client_page_shows_birth_date_and_contact_details(web: Any, clinic_a: Any) -> None:
    response = web.post(reverse("client_new"), {
        "name": "Casey Client", "reference": "C-7", "date_of_birth": "1971-03-14",
        "email": "casey@example.org", "phone": "+44 20 7946 0000"})  # fmt: skip
    c = Client.objects.get(name="Casey Client")
    assert response["Location"] == reverse("client_detail", args=[c.pk])
    page = web.get(response["Location"]).content.decode()
    for text in ("C-7", "1971-03-14", "casey@example.org", "+44 20 7946 0000"):
        assert text in page


def test_edit_client_is_saved_and_audited_without_the_values(web: Any, clinic_a: Any) -> None:
    c = Client.objects.create(clinic=clinic_a, name="Casey")
    response = web.post(reverse("client_edit", args=[c.pk]), {
        "name": "Casey Jones", "reference": "", "date_of_birth": "1980-01-02",
        "email": "", "phone": ""})  # fmt: skip
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.name == "Casey Jones" and str(c.date_of_birth) == "1980-01-02"
    event = AuditEvent.objects.filter(target_id=str(c.pk), action="change").get()
    assert event.detail == "changed name, date_of_birth" and "Jones" not in event.detail


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "x" * 201, "at most 200 characters"),
    ("reference", "x" * 101, "at most 100 characters"),
    ("phone", "1" * 41, "at most 40 characters"),
    ("email", "not-an-address", "valid email"),
    ("date_of_birth", "0002-11-09", "before 1900"),
    ("date_of_birth", (timezone.localdate() + timedelta(days=1)).isoformat(), "future"),
])  # fmt: skip
def test_every_field_is_checked_with_a_message(
    web: Any, clinic_a: Any, field: str, value: str, message: str
) -> None:
    data = {"name": "Casey", "reference": "", "date_of_birth": "", "email": "", "phone": ""}
    page = web.post(reverse("client_new"), {**data, field: value}).content.decode()
    assert message in page
    assert not Client.objects.exists()


def test_search_by_name_or_reference(web: Any, clinic_a: Any, clinic_b: Any) -> None:
    Client.objects.create(clinic=clinic_a, name="Robin Hood", reference="SHER-1")
    Client.objects.create(clinic=clinic_a, name="Marian", reference="LOX-2")
    Client.objects.create(clinic=clinic_b, name="Robin Other clinic")
    page = web.get("/?q=robin").content.decode()
    assert "Robin Hood" in page and "Marian" not in page and "Other clinic" not in page
    page = web.get("/?q=lox").content.decode()
    assert "Marian" in page and "Robin Hood" not in page
    assert 'No client matches "nobody"' in web.get("/?q=nobody").content.decode()


def test_archive_takes_a_client_off_the_list_and_back(web: Any, clinic_a: Any) -> None:
    c = Client.objects.create(clinic=clinic_a, name="Robin")
    web.post(reverse("client_archive", args=[c.pk]), {"archived": "1"})
    c.refresh_from_db()
    assert c.archived_at is not None
    assert "Robin" not in web.get("/").content.decode()
    assert "Robin" not in web.get("/?q=robin").content.decode()
    assert "Robin" in web.get("/?archived=1").content.decode()
    assert "Archived on" in web.get(reverse("client_detail", args=[c.pk])).content.decode()
    web.post(reverse("client_archive", args=[c.pk]), {"archived": "0"})
    assert "Robin" in web.get("/").content.decode()
    assert AuditEvent.objects.filter(target_id=str(c.pk), detail="archived").exists()


def test_a_200_character_name_wraps(web: Any, clinic_a: Any) -> None:
    """The long name is in elements that wrap anywhere (app.css .client-name), never a
    horizontal scroll on a phone (checked in the browser test too)."""
    c = Client.objects.create(clinic=clinic_a, name="W" * 200)
    page = web.get(reverse("client_detail", args=[c.pk])).content.decode()
    assert re.search(r'<h1 class="client-name">W{200}</h1>', page)
    row = web.get("/").content.decode()
    assert re.search(r'<td class="client-name"><a [^>]*>W{200}</a>', row)


def test_403_page_has_the_apps_navigation(web: Any) -> None:
    response = web.get(reverse("clinic_settings"))
    assert response.status_code == 403
    page = response.content.decode()
    assert '<nav aria-label="Main">' in page and "Clients" in page
    assert "Only the clinic lead can do this." in page
