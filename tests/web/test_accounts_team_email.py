"""The clinic lead sets a member's e-mail for password resets on the Team page (a member added
without one could otherwise never reset a password): lead only, own clinic only, audited, a bad
address named and nothing changed. The cross-clinic 404 is in test_security (isolation_accounts)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as Browser
from django.urls import reverse

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clinics.models import Membership

pytestmark = pytest.mark.django_db


def _url(user: Any) -> str:
    return reverse("team_email", args=[Membership.objects.get(user=user).pk])


def test_the_lead_sets_a_members_reset_email_and_it_is_audited(
    lead_web: Browser, therapist_a: Any
) -> None:
    team = lead_web.get(reverse("team")).content.decode()
    assert _url(therapist_a) in team and "Save e-mail for therapist_a" in team
    response = lead_web.post(_url(therapist_a), {"email": "ta@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("team")
    therapist_a.refresh_from_db()
    assert therapist_a.email == "ta@example.org"
    event = AuditEvent.objects.get(detail__startswith="changed the e-mail")
    assert (event.actor, event.clinic_name, event.action) == ("lead_a", "Clinic A", "change")
    assert event.detail == "changed the e-mail for password resets of therapist_a"
    assert "ta@example.org" not in event.detail
    assert 'value="ta@example.org"' in lead_web.get(reverse("team")).content.decode()


def test_an_empty_address_removes_it(lead_web: Browser, therapist_a: Any) -> None:
    therapist_a.email = "old@example.org"
    therapist_a.save()
    assert lead_web.post(_url(therapist_a), {"email": ""}).status_code == 302
    therapist_a.refresh_from_db()
    assert therapist_a.email == ""


@pytest.mark.parametrize("bad", ["not an address", "a@b\x00.org", "x" * 250 + "@example.org"])
def test_a_bad_address_is_named_and_nothing_changes(
    lead_web: Browser, therapist_a: Any, bad: str
) -> None:
    therapist_a.email = "kept@example.org"
    therapist_a.save()
    response = lead_web.post(_url(therapist_a), {"email": bad})
    assert response.status_code == 400
    page = response.content.decode()
    assert "E-mail for therapist_a:" in page and "<h1>Team</h1>" in page
    therapist_a.refresh_from_db()
    assert therapist_a.email == "kept@example.org"
    assert not AuditEvent.objects.filter(detail__startswith="changed the e-mail").exists()


def test_only_the_lead_and_not_for_their_own_account(
    client: Browser, lead_a: Any, therapist_a: Any, make_member: Any, clinic_a: Any
) -> None:
    """A therapist cannot change anyone's address here; the lead changes their own on their
    account page, where the current password confirms it."""
    other = make_member(clinic_a, "therapist_c")
    client.force_login(therapist_a)
    assert client.post(_url(other), {"email": "x@example.org"}).status_code == 403
    client.force_login(lead_a)
    assert client.post(_url(lead_a), {"email": "x@example.org"}).status_code == 403
    assert client.get(_url(other)).status_code == 405
    lead_a.refresh_from_db()
    other.refresh_from_db()
    assert lead_a.email == other.email == ""
