"""The consultation letter (PDF, WeasyPrint) for a clearance_required decision (POLICY §5).

One renderer, :func:`render_letter`, takes a decision JSON plus who sends it and about whom;
the web app's screening letter (:func:`render_pdf`) and the CDS Hooks card's letter
(``clotsafe.web.cds``) both call it. This module imports no models, so the CDS service can use
it on its own (its standalone settings install only the CDS app).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone

from clotsafe.web import engine, texts
from clotsafe.web.screenings import present

if TYPE_CHECKING:
    from clotsafe.web.screenings.models import Screening

TEMPLATE = "clotsafe/letter.html"


@dataclass(frozen=True)
class Letterhead:
    """Who sends the letter: a clinic, or the organisation running the CDS service."""

    name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Patient:
    """About whom: the client (name, clinic reference) or the EHR patient (name, birth date)."""

    name: str
    reference: str = ""
    birth_date: str = ""


def covered_rules(decision: Mapping[str, Any]) -> list[str]:
    """The rules the clinician's answer can cover: clearance_required, not red flags."""
    return [r["rule"] for r in engine.clearable_reasons(decision)]


def _as_date(value: date | str | None) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value


def letter_context(decision: Mapping[str, Any], *, letterhead: Letterhead, patient: Patient,
                   author: str,
                   screened_on: date | str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "letterhead": letterhead,
        "patient": patient,
        "screened_on": _as_date(screened_on or decision.get("screened_on")),
        "policy_version": decision.get("policy_version", ""),
        "today": timezone.localdate(),
        "author": author,
        "reasons": present.reasons(decision),
        "covered": covered_rules(decision),
        "questions": present.LETTER_QUESTIONS,
        "plan": present.plan_view(decision),
        "walton": [(n, texts.walton(n)) for n in range(1, 6)],
    }


def render_letter(decision: Mapping[str, Any], *, letterhead: Letterhead, patient: Patient,
                  author: str, screened_on: date | str | None = None) -> bytes:  # fmt: skip
    """The consultation letter PDF for this decision."""
    from weasyprint import HTML  # imported here: loading it costs ~0.5 s

    context = letter_context(decision, letterhead=letterhead, patient=patient, author=author,
                             screened_on=screened_on)  # fmt: skip
    pdf: bytes = HTML(string=render_to_string(TEMPLATE, context), base_url=None).write_pdf()
    return pdf


def render_pdf(screening: Screening, author: Any) -> bytes:
    """The web app's letter: the clinic's letterhead, the client, the stored decision."""
    clinic, client = screening.clinic, screening.client
    return render_letter(
        screening.decision,
        letterhead=Letterhead(clinic.name, clinic.address, clinic.phone),
        patient=Patient(client.name, reference=client.reference),
        author=f"{author.get_full_name() or author.get_username()}, {clinic.name}",
        screened_on=screening.screened_on,
    )
