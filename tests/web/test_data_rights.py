"""The client's data rights: the clinic lead exports the whole record (JSON, PDF) and erases a
client; the health data goes, one audit event that it happened stays, without health data."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clearances.models import Clearance
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.clients.services import create_link
from clotsafe.web.intake.models import Consent, RedFlagReport
from clotsafe.web.screenings.models import Screening
from tests.web.conftest import dvt_answers

pytestmark = pytest.mark.django_db

NAME = "Casey Jordan"
EMAIL = "casey@example.org"


@pytest.fixture
def casey(lead_web: Any, clinic_a: Any, lead_a: Any, make_client: Any) -> Client:
    """A client with an intake link (answers, a red-flag report, consent), a screening and a
    clearance recorded through the pages."""
    client = make_client(clinic_a, NAME, dvt_answers())
    Client.objects.filter(pk=client.pk).update(email=EMAIL, phone="555 0100")
    link, _ = create_link(client, by=lead_a)
    link.answers = {"rf_breathless": "unsure", "age": 40}
    link.save()
    now = timezone.now()
    RedFlagReport.objects.create(link=link, question_id="rf_breathless", answer="unsure",
                                 answered_at=now, shown_text="Call your doctor today")  # fmt: skip
    Consent.objects.create(link=link, name=NAME, statement="These answers are mine and true.",
                           confirmed_at=now)  # fmt: skip
    lead_web.post(reverse("clearance_new", args=[client.pk]), {
        "rules": ["CLOT-ACTIVE"], "clinician": "Dr Rivera, GP",
        "date": client.latest_screening.screened_on, "cap_region_0": "right_leg",
        "cap_level_0": "1", "notes": "gentle only"})  # fmt: skip
    client.refresh_from_db()
    return client


def test_json_export_holds_the_whole_record_without_tokens(lead_web: Any, casey: Client) -> None:
    """Details, links' state and answers, red flags, consent, every screening with its
    decision, clearances, and who did what; never a token or its hash."""
    response = lead_web.get(reverse("client_export_json", args=[casey.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["client"]["name"] == NAME and data["client"]["email"] == EMAIL
    (link,) = data["intake_links"]
    assert link["state"] == "open" and link["answers"]["rf_breathless"] == "unsure"
    assert link["red_flags"][0]["shown_text"] == "Call your doctor today"
    assert link["consent"]["name"] == NAME
    assert "token_hash" not in link
    token_hash = IntakeLink.objects.get(client=casey).token_hash
    assert token_hash not in response.content.decode()
    kinds = [s["kind"] for s in data["screenings"]]
    assert kinds == ["intake", "clearance"]
    assert data["screenings"][0]["decision"]["level"] == "clearance_required"
    assert data["screenings"][0]["intake"]["answers"]["clot_ever"] == "yes"
    assert data["clearances"][0]["clinician"] == "Dr Rivera, GP"
    assert data["clearances"][0]["recorded_by"] == "lead_a"
    assert any(e["action"] == "create" and e["target_type"] == "clearance" for e in data["audit"])


def test_pdf_export_reads_the_record_in_words(lead_web: Any, casey: Client) -> None:
    response = lead_web.get(reverse("client_export_pdf", args=[casey.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for expected in (NAME, EMAIL, "Dr Rivera, GP", "Call your doctor today",
                     "confirmed the answers", "Screenings", "CLOT-ACTIVE"):  # fmt: skip
        assert expected in text, expected
    assert "{" not in text  # no raw JSON
    assert "added a clearance" in text and f"#{casey.pk}" not in text


def test_exports_are_audited(lead_web: Any, casey: Client) -> None:
    lead_web.get(reverse("client_export_json", args=[casey.pk]))
    lead_web.get(reverse("client_export_pdf", args=[casey.pk]))
    events = AuditEvent.objects.filter(action="export", target_type="client",
                                       target_id=str(casey.pk))  # fmt: skip
    assert sorted(e.detail for e in events) == ["whole client record (JSON)",
                                                "whole client record (PDF)"]  # fmt: skip


@pytest.mark.parametrize("name", ["client_export_json", "client_export_pdf", "client_erase"])
def test_a_therapist_cannot_export_or_erase(
    name: str, web: Any, clinic_a: Any, make_client: Any
) -> None:
    """Only the clinic lead: a therapist gets 403 and nothing is erased."""
    client = make_client(clinic_a, NAME, dvt_answers())
    assert web.get(reverse(name, args=[client.pk])).status_code == 403
    assert web.post(reverse(name, args=[client.pk]), {"name": NAME}).status_code == 403
    assert Client.objects.filter(pk=client.pk).exists()


def test_erasure_needs_the_clients_name_typed(lead_web: Any, casey: Client) -> None:
    url = reverse("client_erase", args=[casey.pk])
    assert lead_web.get(url).status_code == 200
    for typed in ("", "Casey", "someone else"):
        page = lead_web.post(url, {"name": typed})
        assert page.status_code == 200
    assert "not the client&#x27;s name" in page.content.decode()
    assert Client.objects.filter(pk=casey.pk).exists()
    assert not AuditEvent.objects.filter(action="erase").exists()


def test_erasure_deletes_every_health_datum_and_leaves_one_event(
    lead_web: Any, casey: Client
) -> None:
    """The client, links, answers, red flags, consent, screenings and clearances go; the audit
    event says only that client #id was erased, by whom."""
    pk = casey.pk
    response = lead_web.post(reverse("client_erase", args=[pk]), {"name": " casey  JORDAN "})
    assert response.status_code == 302 and response["Location"] == reverse("client_list")
    assert not Client.objects.filter(pk=pk).exists()
    for model in (IntakeLink, Screening, Clearance, RedFlagReport, Consent):
        assert not model.objects.exists(), model.__name__
    (event,) = AuditEvent.objects.filter(action="erase")
    assert (event.actor, event.target_type, event.target_id) == ("lead_a", "client", str(pk))
    assert event.detail == f"erased client #{pk} and all of their health data"


def test_no_audit_event_names_the_erased_client(lead_web: Any, casey: Client) -> None:
    """Events written before the erasure hold ids, not the client's name or contact details."""
    lead_web.post(reverse("client_erase", args=[casey.pk]), {"name": NAME})
    for event in AuditEvent.objects.all():
        row = " ".join((event.detail, event.actor, json.dumps(event.changes)))
        assert NAME not in row and EMAIL not in row and "555 0100" not in row


def test_no_audit_event_of_an_erased_client_holds_health_data(lead_web: Any, casey: Client) -> None:
    """No level, rule or clinician in any event about the client (they outlive the erasure)."""
    lead_web.post(reverse("client_erase", args=[casey.pk]), {"name": NAME})
    health = ("clearance_required", "adapt", "CLOT-ACTIVE", "Dr Rivera", "red flag")
    for event in AuditEvent.objects.all():
        assert not any(word in event.detail for word in health), event.detail
