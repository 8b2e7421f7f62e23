"""The CDS card's consultation letter inside the full web app: a capability URL an EHR user
(no clotsafe login) can open, expiring, stored as a hash, audited, rendered by the same letter
renderer as the screening letter."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from clotsafe.fhir.cds import LetterRequest
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.cds import letters
from clotsafe.web.cds.models import ConsultationLetter, LetterView, letter_token_hash
from clotsafe.web.screenings.present import LETTER_QUESTIONS
from tests.web.conftest import dvt_answers

pytestmark = pytest.mark.django_db


def _decision() -> dict[str, Any]:
    from clotsafe.web import engine

    decision = engine.run(dvt_answers(), timezone.localdate()).decision
    assert decision["level"] == "clearance_required"
    return decision


def _issue(**extra: Any) -> str:
    d = _decision()
    req = LetterRequest(decision=d, policy_version=d["policy_version"],
                        service_id="clotsafe-patient-view", hook_instance="hook-42",
                        user_id="Practitioner/9", patient_name="Ada Lovelace",
                        birth_date="1970-05-01", **extra)  # fmt: skip
    return letters.DbLetterStore().issue(req)


def _url(token: str) -> str:
    return f"/cds-services/letters/{token}.pdf"


def test_letter_opens_without_login_and_shows_reasons_and_policy_questions(client: Any) -> None:
    """No clotsafe login needed: the token is the permission. The PDF is the consultation
    letter (letterhead, patient, reasons, the POLICY §5 questions, signature line)."""
    resp = client.get(_url(_issue()))
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(resp.content)).pages
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))
    for expected in ("clotsafe", "Ada Lovelace", "born 1970-05-01", "CLOT-ACTIVE",
                     *LETTER_QUESTIONS, "Signature", "EHR user Practitioner/9"):  # fmt: skip
        assert expected in text, expected


def test_only_a_hash_of_a_256_bit_token_is_stored() -> None:
    """The link cannot be guessed (256 random bits) or read back from the database."""
    token = _issue()
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    letter = ConsultationLetter.objects.get()
    assert letter.token_hash == letter_token_hash(token) and token not in str(letter.__dict__)
    assert timedelta(hours=23, minutes=59) < letter.expires_at - letter.created_at <= timedelta(
        hours=24
    )


def test_each_view_is_in_the_audit_log_without_a_clinic_user(client: Any) -> None:
    """Who (letter id, hook instance, EHR user), what and when are audited, with no clinic."""
    client.get(_url(_issue()))
    letter = ConsultationLetter.objects.get()
    event = AuditEvent.objects.get(target_type="cds_letter")
    assert event.clinic is None and event.user is None and event.action == "export"
    assert event.actor == f"cds-letter:{letter.pk}" and event.target_id == str(letter.pk)
    assert "hook-42" in event.detail and "Practitioner/9" in event.detail and event.at


def test_without_the_audit_app_views_are_kept_in_the_cds_app(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CDS service alone (no audit app) still records who opened which letter, when."""
    from django.apps import apps

    real = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name != "clotsafe.web.audit"
                        and real(name))  # fmt: skip
    client.get(_url(_issue()))
    view = LetterView.objects.get()
    assert view.letter_id == ConsultationLetter.objects.get().pk
    assert (view.hook_instance, view.user_id) == ("hook-42", "Practitioner/9")
    assert not AuditEvent.objects.filter(target_type="cds_letter").exists()


def test_expired_link_is_410_and_unknown_is_404_never_500(client: Any) -> None:
    """An expired letter gets a clear 410 page, a made-up token a clear 404; neither is
    audited as a view."""
    token = _issue()
    ConsultationLetter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    gone = client.get(_url(token))
    assert gone.status_code == 410 and b"expired" in gone.content
    for bad in ("nope", "A" * 43, "x" * 300):
        missing = client.get(_url(bad))
        assert missing.status_code == 404 and b"not known" in missing.content
    assert not AuditEvent.objects.filter(target_type="cds_letter").exists()


def test_long_expired_letters_are_deleted_when_a_new_one_is_issued() -> None:
    """Patient data is not kept for ever: letters expired over a week ago are removed."""
    _issue()
    ConsultationLetter.objects.update(expires_at=timezone.now() - timedelta(days=8))
    _issue()
    assert ConsultationLetter.objects.count() == 1
