"""The Django admin: for the operator (superusers) only; the audit log read-only and never
deleted; every change made there in the audit log, under the clinic it touched."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.test import Client as Browser
from django.urls import reverse

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.audit.services import log
from clotsafe.web.clients.models import Client
from clotsafe.web.clinics.models import Clinic
from tests.web.conftest import dvt_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client: Browser) -> Browser:
    user = User.objects.create_superuser("operator", password="operator-pass-123")
    client.force_login(user)
    return client


def test_only_superusers_open_the_admin(client: Browser, lead_a: Any) -> None:
    """Anonymous, a clinic lead and a staff account without superuser status all get the
    admin's login page."""
    index = reverse("admin:index")
    assert client.get(index).status_code == 302
    client.force_login(lead_a)
    assert client.get(index).status_code == 302
    staff = User.objects.create_user("staff", password="staff-pass-123", is_staff=True)
    client.force_login(staff)
    assert client.get(index).status_code == 302
    client.force_login(User.objects.create_superuser("root", password="root-pass-123"))
    assert client.get(index).status_code == 200


def test_audit_log_is_read_only_in_the_admin(operator: Browser, clinic_a: Any) -> None:
    event = log(clinic_a, None, "view", target_type="client", detail="seen")
    assert operator.get(reverse("admin:clotsafe_audit_auditevent_changelist")).status_code == 200
    page = operator.get(reverse("admin:clotsafe_audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert operator.get(reverse("admin:clotsafe_audit_auditevent_add")).status_code == 403
    delete = reverse("admin:clotsafe_audit_auditevent_delete", args=[event.pk])
    assert operator.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:clotsafe_audit_auditevent_changelist")
    bulk = {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    operator.post(changelist, bulk)
    assert AuditEvent.objects.filter(pk=event.pk, detail="seen").exists()


def test_an_admin_change_is_audited_without_values(
    operator: Browser, clinic_a: Any, make_client: Any
) -> None:
    """Under the client's clinic (its lead sees it in the CSV), naming fields, not values."""
    casey = make_client(clinic_a, "Casey", dvt_answers())
    url = reverse("admin:clotsafe_clients_client_change", args=[casey.pk])
    form = {"clinic": clinic_a.pk, "name": "Casey Renamed", "reference": "", "date_of_birth": "",
            "email": "", "phone": "", "archived_at_0": "", "archived_at_1": ""}  # fmt: skip
    response = operator.post(url, form)
    assert response.status_code == 302
    assert Client.objects.get(pk=casey.pk).name == "Casey Renamed"
    event = AuditEvent.objects.get(action="change", target_type="client")
    assert (event.actor, event.clinic_id, event.target_id) == ("operator", clinic_a.pk,
                                                              str(casey.pk))  # fmt: skip
    assert event.detail == f"admin: changed Name of client #{casey.pk}"
    assert not LogEntry.objects.exists()  # no second history keeping the client's name


def test_admin_page_views_are_audited(operator: Browser, clinic_a: Any, make_client: Any) -> None:
    casey = make_client(clinic_a, "Casey", dvt_answers())
    operator.get(reverse("admin:clotsafe_clients_client_change", args=[casey.pk]))
    event = AuditEvent.objects.get(action="view", target_type="admin")
    assert event.target_id == str(casey.pk) and event.actor == "operator"


def test_removing_a_clinic_and_a_user_keeps_the_audit_log(
    operator: Browser, clinic_a: Any, lead_a: Any, make_client: Any
) -> None:
    """Clinics and users can be removed in the admin; their events stay (names as text), and
    the removals themselves are recorded."""
    make_client(clinic_a, "Casey", dvt_answers())
    earlier = log(clinic_a, lead_a, "view", target_type="client", detail="seen")
    user_url = reverse("admin:auth_user_delete", args=[lead_a.pk])
    assert operator.post(user_url, {"post": "yes"}).status_code == 302
    clinic_url = reverse("admin:clotsafe_clinics_clinic_delete", args=[clinic_a.pk])
    assert operator.post(clinic_url, {"post": "yes"}).status_code == 302
    assert not Clinic.objects.exists() and not User.objects.filter(username="lead_a").exists()
    kept = AuditEvent.objects.get(pk=earlier.pk)
    assert (kept.actor, kept.clinic_name, kept.user_id, kept.clinic_id) == (
        "lead_a", "Clinic A", None, None)  # fmt: skip
    deletions = AuditEvent.objects.filter(action="delete", actor="operator")
    assert sorted(e.target_type for e in deletions) == ["clinic", "user"]
    assert all(e.clinic_name == "Clinic A" for e in deletions)
