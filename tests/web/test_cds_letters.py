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

from clotsafe.domain.intake import parse_intake
from clotsafe.fhir.cds import LetterRequest
from clotsafe.fhir.service import SCREENER
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.cds import letters
from clotsafe.web.cds.models import ConsultationLetter, LetterView, letter_token_hash
from clotsafe.web.screenings.present import LETTER_QUESTIONS
from tests.web.conftest import dvt_answers

pytestmark = pytest.mark.django_db


def _request(**extra: Any) -> LetterRequest:
    intake = {"screened_on": timezone.localdate().isoformat(), "answers": dvt_answers()}
    decision = SCREENER.screen_one(parse_intake(intake))
    assert decision.level.value == "clearance_required"
    fields = {"service_id": "clotsafe-patient-view", "hook_instance": "hook-42",
              "user_id": "Practitioner/9", "patient_name": "Ada Lovelace",
              "birth_date": "1970-05-01", **extra}  # fmt: skip
    return LetterRequest(outcome=decision, intake=intake, **fields)


def _issue(**extra: Any) -> str:
    return letters.DbLetterStore().issue(_request(**extra))


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


def test_nothing_is_written_until_the_letter_is_opened_then_only_a_hash() -> None:
    """A hook call pays for no letter: the token is the sealed request. The letter is made on
    first open and kept under the token's SHA-256 only; the token cannot be read back from the
    database."""
    token = _issue()
    assert not ConsultationLetter.objects.exists()
    assert "Ada" not in token and "Lovelace" not in token and "hook-42" not in token
    letter = letters.find_letter(token)
    assert letter is not None and ConsultationLetter.objects.get().pk == letter.pk
    assert letter.token_hash == letter_token_hash(token) and token not in str(letter.__dict__)
    assert letters.find_letter(token).pk == letter.pk  # type: ignore[union-attr]
    assert (
        timedelta(hours=23, minutes=59)
        < letter.expires_at - letter.created_at
        <= timedelta(hours=24)
    )


def test_a_changed_or_foreign_token_opens_nothing(settings: Any) -> None:
    """Any changed character, or a token sealed under another SECRET_KEY, is unknown (404)."""
    token = _issue()
    flipped = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    assert letters.find_letter(flipped) is None
    settings.SECRET_KEY = "another-installation"
    assert letters.find_letter(token) is None
    assert not ConsultationLetter.objects.exists()


def test_a_letter_whose_decision_no_longer_matches_is_not_made(client: Any) -> None:
    """On open the intake is evaluated again at the card's date; if that no longer gives the
    card's level and rules (another policy version), the link answers 410 and nothing is kept."""
    token = _issue()
    payload = letters.unseal(token)
    assert payload is not None
    resealed = letters.seal({**payload, "rules": ["SOMETHING-ELSE"]})
    assert client.get(_url(resealed)).status_code == 410
    assert not ConsultationLetter.objects.exists()


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
    assert letters.find_letter(token) is not None
    ConsultationLetter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    gone = client.get(_url(token))
    assert gone.status_code == 410 and b"expired" in gone.content
    for bad in ("nope", "A" * 43, "x" * 300, "x" * 5000):
        missing = client.get(_url(bad))
        assert missing.status_code == 404 and b"not known" in missing.content
    assert not AuditEvent.objects.filter(target_type="cds_letter").exists()


def test_a_link_never_opened_expires_too(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The expiry is sealed in the token: opened after it, the link is 410 and no letter is
    made."""
    token = _issue()
    later = timezone.now() + timedelta(hours=25)
    monkeypatch.setattr(letters.timezone, "now", lambda: later)
    assert client.get(_url(token)).status_code == 410
    assert not ConsultationLetter.objects.exists()


def test_long_expired_letters_are_deleted_when_a_new_one_is_made() -> None:
    """Patient data is not kept for ever: letters expired over a week ago are removed."""
    letters.find_letter(_issue())
    ConsultationLetter.objects.update(expires_at=timezone.now() - timedelta(days=8))
    letters.find_letter(_issue())
    assert ConsultationLetter.objects.count() == 1
