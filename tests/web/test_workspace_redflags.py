"""Issue 8 §1.3 (therapist side): a red flag the client answered yes to and then changed is
shown on the client list, the client page and the screening page, with when and what the client
was shown, and withholds the green light until a therapist acknowledges it (who and when, kept
and audited). The client's consent is shown on the screening, in the history and on the letter."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clients.models import Client
from clotsafe.web.clients.services import create_link
from clotsafe.web.intake.models import Consent, OtherMedicine, RedFlagReport
from clotsafe.web.screenings import services
from clotsafe.web.screenings.models import Screening
from tests.web.conftest import COMPLETE_NO, dvt_answers

pytestmark = pytest.mark.django_db

BREATHLESS = "Are you short of breath all of a sudden, or for no reason you know?"


def retracted(clinic: Any, name: str = "Robin", answers: dict[str, Any] | None = None) -> Client:
    """A client who answered yes to breathlessness, saw the emergency screen, changed the
    answer to no and finished: the intake records the change; the screening is standard."""
    client = Client.objects.create(clinic=clinic, name=name)
    link, _ = create_link(client, by=None)
    at = timezone.now() - timedelta(minutes=5)
    RedFlagReport.objects.create(
        link=link, question_id="rf_breathless", answer="yes", answered_at=at,
        shown_level="emergency", shown_text="Call 999 now", changed_to="no",
        changed_at=at + timedelta(minutes=1),
    )  # fmt: skip
    Consent.objects.create(link=link, name=name, statement="These answers are mine and true.",
                           confirmed_at=at + timedelta(minutes=3))  # fmt: skip
    services.record(client, answers or COMPLETE_NO, kind=Screening.Kind.INTAKE, by=None)
    client.refresh_from_db()
    return client


def test_changed_red_flag_withholds_standard_on_the_list(web: Any, clinic_a: Any) -> None:
    """The list shows that the red flag changed, and not the green Standard badge."""
    retracted(clinic_a)
    page = web.get("/").content.decode()
    row = re.search(r"Robin</a>.*?</tr>", page, re.S).group(0)
    assert "Red-flag answer changed" in row
    assert "Check the changed red flag" in row
    assert "level-standard" not in row


def test_screening_page_says_when_and_what_was_shown(web: Any, clinic_a: Any) -> None:
    c = retracted(clinic_a)
    page = web.get(reverse("screening_detail", args=[c.latest_screening.pk])).content.decode()
    assert "The client changed a red-flag answer" in page
    assert f"&quot;{BREATHLESS}&quot;" in page or f'"{BREATHLESS}"' in page
    assert "Call 999 now" in page  # what the client was shown
    assert "Check the changed red flag" in page and "level-standard" not in page
    assert "rf_breathless" not in page
    assert 'typing "Robin"' in page or "typing &quot;Robin&quot;" in page  # consent


def test_acknowledging_records_who_and_when_and_restores_the_level(
    web: Any, clinic_a: Any, therapist_a: Any
) -> None:
    c = retracted(clinic_a)
    s = c.latest_screening
    response = web.post(reverse("screening_acknowledge", args=[s.pk]))
    assert response.status_code == 302
    s.refresh_from_db()
    assert s.red_flag_ack_by == therapist_a and s.red_flag_ack_at is not None
    assert AuditEvent.objects.filter(target_id=str(s.pk), action="change",
                                     detail__contains="changed answer").exists()  # fmt: skip
    page = web.get(reverse("screening_detail", args=[s.pk])).content.decode()
    assert "level-standard" in page and "Acknowledged by" in page
    row = re.search(r"Robin</a>.*?</tr>", web.get("/").content.decode(), re.S).group(0)
    assert "level-standard" in row and "Red-flag answer changed" not in row


def test_acknowledge_needs_post(web: Any, clinic_a: Any) -> None:
    c = retracted(clinic_a)
    assert (
        web.get(reverse("screening_acknowledge", args=[c.latest_screening.pk])).status_code == 405
    )


def test_history_shows_the_change_and_the_consent(web: Any, clinic_a: Any) -> None:
    c = retracted(clinic_a)
    page = web.get(reverse("client_detail", args=[c.pk])).content.decode()
    history = page.split("<h2>History</h2>")[1]
    assert "Red flag changed" in history and BREATHLESS in history
    assert "Answers confirmed by the client" in history
    assert "A red-flag answer was changed" in page


def test_letter_carries_the_consent(web: Any, clinic_a: Any) -> None:
    c = retracted(clinic_a, "Casey", dvt_answers())
    response = web.get(reverse("letter_pdf", args=[c.latest_screening.pk]))
    text = re.sub(r"\s+", " ", " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))  # fmt: skip
    assert 'typing the name "Casey"' in text


def test_other_medicine_typed_by_the_client_is_read_back(web: Any, clinic_a: Any) -> None:
    client = Client.objects.create(clinic=clinic_a, name="Blair")
    link, _ = create_link(client, by=None)
    answers = {**COMPLETE_NO, "anticoagulant": "yes", "anticoagulant_names": ["other"],
               "rf_unusual_bleeding": "no"}  # fmt: skip
    link.answers = answers
    link.save()
    OtherMedicine.objects.create(link=link, question_id="anticoagulant_names", text="Fragmin")
    s = services.record(client, answers, kind=Screening.Kind.INTAKE, by=None)
    page = web.get(reverse("screening_answers", args=[s.pk])).content.decode()
    assert "Fragmin" in page
