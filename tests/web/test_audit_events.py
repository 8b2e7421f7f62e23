"""What the audit log records: every view of client data (once per request, with the address and
browser), failed log-ins, and settings changes with the old and new settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.audit.services import USER_AGENT_MAX
from tests.web.conftest import dvt_answers

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"
BROWSER = "Mozilla/5.0 (test browser)"
HEADERS = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": BROWSER}

#: page -> how to fill its id from the client
PAGES = {
    "client_list": lambda c: [],
    "client_detail": lambda c: [c.pk],
    "client_edit": lambda c: [c.pk],
    "recheck": lambda c: [c.pk],
    "clearance_new": lambda c: [c.pk],
    "screening_detail": lambda c: [c.latest_screening.pk],
    "screening_answers": lambda c: [c.latest_screening.pk],
    "screening_json": lambda c: [c.latest_screening.pk],
    "letter_pdf": lambda c: [c.latest_screening.pk],
    "team": lambda c: [],
    "clinic_settings": lambda c: [],
    "audit_csv": lambda c: [],
}


def _new_events(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=before).order_by("id"))


def _last_id() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_view_of_client_data_is_recorded_once_with_address_and_browser(
    name: str, lead_web: Any, clinic_a: Any, make_client: Any
) -> None:
    """One event per page view (none doubled by the middleware), who, where from, which."""
    casey = make_client(clinic_a, "Casey", dvt_answers())
    before = _last_id()
    response = lead_web.get(reverse(name, args=PAGES[name](casey)), **HEADERS)
    assert response.status_code == 200
    if response.streaming:
        b"".join(response.streaming_content)
    events = _new_events(before)
    assert len(events) == 1, [(e.action, e.detail) for e in events]
    event = events[0]
    assert (event.actor, event.clinic_id) == ("lead_a", clinic_a.pk)
    assert (event.ip_address, event.user_agent) == (ADDRESS, BROWSER)
    assert event.action in ("view", "export")


def test_refused_and_missing_pages_are_not_recorded_as_views(
    lead_web: Any, clinic_a: Any, clinic_b: Any, make_client: Any
) -> None:
    """A 404 (another clinic's client) shows no client data: no view event."""
    other = make_client(clinic_b, "Other", dvt_answers())
    before = _last_id()
    assert lead_web.get(reverse("client_detail", args=[other.pk])).status_code == 404
    assert _new_events(before) == []


def test_events_written_by_services_carry_the_address(
    lead_web: Any, clinic_a: Any, make_client: Any
) -> None:
    """A change recorded by a service that knows no request still says where it came from."""
    casey = make_client(clinic_a, "Casey", dvt_answers())
    before = _last_id()
    lead_web.post(reverse("client_archive", args=[casey.pk]), {"archived": "1"}, **HEADERS)
    (event,) = _new_events(before)
    assert (event.action, event.detail, event.ip_address) == ("change", "archived", ADDRESS)


def test_user_agent_is_truncated(lead_web: Any, clinic_a: Any) -> None:
    before = _last_id()
    lead_web.get(reverse("client_list"), HTTP_USER_AGENT="x" * 5000)
    (event,) = _new_events(before)
    assert event.user_agent == "x" * USER_AGENT_MAX


def test_failed_login_is_recorded_with_address_browser_and_the_name_tried(
    client: Any, clinic_a: Any, lead_a: Any
) -> None:
    """A wrong password for a clinic's user: the clinic's log shows it, from where."""
    before = _last_id()
    client.post(reverse("login"), {"username": "lead_a", "password": "wrong-password"}, **HEADERS)
    (event,) = _new_events(before)
    assert (event.action, event.actor, event.clinic_id) == (
        "login_failed",
        "anonymous",
        clinic_a.pk,
    )
    assert (event.ip_address, event.user_agent) == (ADDRESS, BROWSER)
    assert "'lead_a'" in event.detail and "wrong-password" not in event.detail


def test_failed_login_with_a_long_unknown_name_is_shortened(client: Any, db: None) -> None:
    before = _last_id()
    client.post(reverse("login"), {"username": "u" * 150, "password": "whatever-it-is"})
    (event,) = _new_events(before)
    assert event.clinic_id is None and len(event.detail) < 100


def test_settings_change_records_old_and_new_settings(lead_web: Any, clinic_a: Any) -> None:
    """The lead changes the emergency number and a rule: the event has both, before and after."""
    before = _last_id()
    response = lead_web.post(reverse("clinic_settings"), {
        "emergency_number": "112", "units": "metric", "settings_toml": "",
        "r0_rule": "RF-HR", "r0_level": "emergency"}, **HEADERS)  # fmt: skip
    assert response.status_code == 302
    events = [e for e in _new_events(before) if e.changes]
    (event,) = events
    assert event.changes["emergency_number"] == {"old": "999", "new": "112"}
    assert event.changes["settings_toml"]["old"] == ""
    assert "RF-HR" in event.changes["settings_toml"]["new"]
    assert (event.actor, event.ip_address) == ("lead_a", ADDRESS)
