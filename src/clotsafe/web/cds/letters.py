"""Consultation letters for clearance_required CDS cards, behind a capability URL, made on
first open.

An EHR user has no clotsafe login, so the card links to ``/cds-services/letters/<token>.pdf``:
the token is the permission, and it expires (``CLOTSAFE_CDS_LETTER_HOURS``, 24 by default).

Nothing is written when the card is made (a hook call does not pay for a letter most cards'
readers never open). The token *is* the letter request, sealed: AES-256-GCM under a key
derived from the SECRET_KEY, holding the record's intake answers, the screening date, the level
and rules the card showed, the EHR user, hook instance and the patient's name and birth date,
and when it expires. Without the key it can be neither read nor forged (a changed character
is an unknown letter, 404). When it is first opened, the intake is evaluated again through the
engine's executor at the same date; the letter is made only if that gives the card's level and
rules under the same policy version (else the link is treated as expired, 410), and is then
kept in :class:`ConsultationLetter` under the token's SHA-256 only, like any other letter.
"""

from __future__ import annotations

import base64
import os
import time
import zlib
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clotsafe.domain.decision import Decision
from clotsafe.domain.errors import ClotsafeInputError
from clotsafe.domain.intake import parse_intake
from clotsafe.fhir.cds import LetterRequest
from clotsafe.fhir.service import SCREENER
from clotsafe.web.cds.conf import cds_settings
from clotsafe.web.cds.models import (
    LETTER_KEEP_EXPIRED,
    ConsultationLetter,
    LetterView,
    _sqlite_writer,
    db_json,
    db_text,
    letter_token_hash,
)

#: a sealed letter request is a few hundred characters; anything longer is not one of ours
MAX_TOKEN_CHARS = 4000
_VERSION = b"\x01"
_NONCE_BYTES = 12


@cache
def _aead(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"clotsafe cds consultation letter v1").derive(secret.encode())  # fmt: skip
    return AESGCM(key)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(payload: dict[str, Any]) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aead(str(settings.SECRET_KEY)).encrypt(nonce, zlib.compress(orjson.dumps(payload)),
                                                     _VERSION)  # fmt: skip
    return _b64(_VERSION + nonce + sealed)


def unseal(token: str) -> dict[str, Any] | None:
    """The payload of a token this service sealed, or None (unknown, changed, not ours)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        raw = _unb64(token)
        if raw[:1] != _VERSION:
            return None
        nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
        plain = _aead(str(settings.SECRET_KEY)).decrypt(nonce, sealed, _VERSION)
        payload = orjson.loads(zlib.decompress(plain))
    except (ValueError, InvalidTag, zlib.error, orjson.JSONDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


class DbLetterStore:
    """The :class:`clotsafe.fhir.cds.LetterStore` protocol: the token is the sealed request
    (nothing is written until the letter is opened)."""

    def issue(self, letter: LetterRequest) -> str:
        outcome = letter.outcome
        now = time.time()
        return seal({
            "intake": letter.intake, "at": outcome.screened_on.isoformat(),
            "level": outcome.level.value, "rules": [r.rule for r in outcome.reasons],
            "policy": outcome.policy_version, "service": letter.service_id,
            "hook": letter.hook_instance[:200], "user": letter.user_id[:300],
            "name": letter.patient_name[:300], "birth": letter.birth_date[:20],
            "made": now, "expires": now + cds_settings().letter_hours * 3600,
        })  # fmt: skip


def find_letter(token: str) -> ConsultationLetter | None:
    """The letter this token opens (expired or not; made now on first open), or None for an
    unknown token."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    token_hash = letter_token_hash(token)
    kept = ConsultationLetter.objects.filter(token_hash=token_hash).first()
    if kept is not None:
        return kept
    payload = unseal(token)
    if payload is None:
        return None
    return _make(token_hash, payload)


def _when(seconds: Any) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def _make(token_hash: str, payload: dict[str, Any]) -> ConsultationLetter:
    """The letter of a sealed request: its decision evaluated again (see the module docstring);
    an unexpired letter whose decision no longer matches is returned already expired."""
    created, expires = _when(payload["made"]), _when(payload["expires"])
    decision = _decision(payload) if timezone.now() < expires else None
    letter = ConsultationLetter(
        token_hash=token_hash, decision=db_json(decision.to_json()) if decision else {},
        policy_version=str(payload.get("policy", ""))[:40],
        service_id=db_text(payload.get("service"), 100),
        hook_instance=db_text(payload.get("hook"), 200),
        user_id=db_text(payload.get("user"), 300),
        patient_name=db_text(payload.get("name"), 300),
        birth_date=db_text(payload.get("birth"), 20),
        created_at=created, expires_at=expires if decision else min(expires, timezone.now()),
    )  # fmt: skip
    if decision is None:
        return letter  # not kept: expired, or no longer the card's decision
    with _sqlite_writer():
        ConsultationLetter.objects.filter(
            expires_at__lt=timezone.now() - LETTER_KEEP_EXPIRED
        ).delete()
        try:
            with transaction.atomic():
                letter.save()
        except IntegrityError:  # opened twice at once: the first one made it
            return ConsultationLetter.objects.get(token_hash=token_hash)
    return letter


def _decision(payload: dict[str, Any]) -> Decision | None:
    try:
        at = date.fromisoformat(str(payload["at"]))
        decision = SCREENER.screen_one(parse_intake(payload["intake"]), at=at)
    except (ClotsafeInputError, KeyError, ValueError, TypeError):
        return None
    same = (decision.level.value == payload.get("level")
            and [r.rule for r in decision.reasons] == payload.get("rules")
            and decision.policy_version == payload.get("policy"))  # fmt: skip
    return decision if same else None


def render(letter: ConsultationLetter) -> bytes:
    """The PDF: the service's organisation as letterhead, the EHR patient, the stored decision."""
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
