"""Consultation letters for clearance_required CDS cards, behind a capability URL.

An EHR user has no clotsafe login, so the card links to ``/cds-services/letters/<token>.pdf``:
the token (256 random bits, only its SHA-256 stored) is the permission, and it expires
(``CLOTSAFE_CDS_LETTER_HOURS``, 24 by default). The PDF comes from the web app's one letter
renderer (:func:`clotsafe.web.screenings.letter.render_letter`), given the stored decision
read back with ``Decision.from_json``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.apps import apps
from django.utils import timezone

from clotsafe.fhir.cds import LetterRequest
from clotsafe.web.cds.conf import cds_settings
from clotsafe.web.cds.models import (
    LETTER_KEEP_EXPIRED,
    LETTER_TOKEN_BYTES,
    ConsultationLetter,
    LetterView,
    _sqlite_writer,
    db_json,
    db_text,
    letter_token_hash,
)

MAX_TOKEN_CHARS = 100


class DbLetterStore:
    """The :class:`clotsafe.fhir.cds.LetterStore` protocol on the database."""

    def issue(self, letter: LetterRequest) -> str:
        token = secrets.token_urlsafe(LETTER_TOKEN_BYTES)
        now = timezone.now()
        with _sqlite_writer():
            ConsultationLetter.objects.filter(expires_at__lt=now - LETTER_KEEP_EXPIRED).delete()
            ConsultationLetter.objects.create(
                token_hash=letter_token_hash(token), decision=db_json(letter.decision),
                policy_version=letter.policy_version, service_id=letter.service_id,
                hook_instance=db_text(letter.hook_instance, 200),
                user_id=db_text(letter.user_id, 300),
                patient_name=db_text(letter.patient_name, 300),
                birth_date=db_text(letter.birth_date, 20),
                created_at=now, expires_at=now + timedelta(hours=cds_settings().letter_hours),
            )  # fmt: skip
        return token


def find_letter(token: str) -> ConsultationLetter | None:
    """The letter this token opens (expired or not), or None for an unknown token."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    return ConsultationLetter.objects.filter(token_hash=letter_token_hash(token)).first()


def render(letter: ConsultationLetter) -> bytes:
    """The PDF: the service's organisation as letterhead, the EHR patient, the stored decision."""
    from clotsafe.domain.decision import Decision
    from clotsafe.web.screenings.letter import Letterhead, Patient, render_letter

    organisation = cds_settings().organisation
    user = f" for EHR user {letter.user_id}" if letter.user_id else ""
    patient = Patient(letter.patient_name or "the patient (name not in the record)",
                      birth_date=letter.birth_date)  # fmt: skip
    made = f"{letter.created_at:%Y-%m-%d %H:%M} UTC"
    decision = Decision.from_json(letter.decision, screened_on=letter.created_at.date())
    return render_letter(decision, letterhead=Letterhead(organisation), patient=patient,
                         author=f"{organisation} CDS service{user} (card of {made})")  # fmt: skip


def record_view(letter: ConsultationLetter) -> None:
    """Who (letter id, hook instance, EHR user), what and when: in the web app's audit log when
    it is installed (an entry without clinic or user), else in :class:`LetterView`."""
    detail = (f"consultation letter PDF from CDS card ({letter.service_id}); "
              f"hook {letter.hook_instance or '-'}; EHR user {letter.user_id or '-'}")  # fmt: skip
    if apps.is_installed("clotsafe.web.audit"):
        from clotsafe.web.audit.services import log

        log(None, None, "export", letter, target_type="cds_letter",
            actor=f"cds-letter:{letter.pk}", detail=detail)  # fmt: skip
        return
    LetterView.objects.create(letter_id=letter.pk, hook_instance=letter.hook_instance,
                              user_id=letter.user_id, detail=detail)  # fmt: skip
