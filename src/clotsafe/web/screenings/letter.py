"""The consultation letter (PDF, WeasyPrint) for a clearance_required decision (POLICY §5).

One renderer, :func:`render_letter`, takes a Decision (a stored one read back with
``Decision.from_json``) plus who sends it and about whom, and words it through the one
presenter (:mod:`clotsafe.render.present`);
the web app's screening letter (:func:`render_pdf`) and the CDS Hooks card's letter
(``clotsafe.web.cds``) both call it. This module imports no models, so the CDS service can use
it on its own (its standalone settings install only the CDS app).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone

from clotsafe.domain.decision import Decision
from clotsafe.render import present
from clotsafe.web.screenings.present import LETTER_QUESTIONS, decision_of

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


def letter_context(decision: Decision, *, letterhead: Letterhead, patient: Patient,
                   author: str, consent: str = "") -> dict[str, Any]:  # fmt: skip
    return {
        "consent": consent,
        "letterhead": letterhead,
        "patient": patient,
        "screened_on": decision.screened_on,
        "policy_version": decision.policy_version,
        "today": timezone.localdate(),
        "author": author,
        "reasons": present.reasons(decision),
        "references": present.references(decision),
        "clearances": present.clearance_facts(decision),
        "covered": [r.rule for r in present.rules_to_clear(decision)],
        "questions": LETTER_QUESTIONS,
        "plan": present.plan(decision),
        "walton": [(n, present.walton(n)) for n in range(1, 6)],
    }


def render_letter(decision: Decision, *, letterhead: Letterhead, patient: Patient,
                  author: str, consent: str = "") -> bytes:  # fmt: skip
    """The consultation letter PDF for this decision (``consent``: the client's confirmation
    of the answers, in words, when there is one)."""
    context = letter_context(decision, letterhead=letterhead, patient=patient, author=author,
                             consent=consent)  # fmt: skip
    return pdf_from_template(TEMPLATE, context)


def pdf_from_template(template: str, context: dict[str, Any]) -> bytes:
    """A template rendered to PDF by WeasyPrint (no base URL: nothing is fetched)."""
    from weasyprint import HTML  # imported here: loading it costs ~0.5 s

    pdf: bytes = HTML(string=render_to_string(template, context), base_url=None).write_pdf()
    return pdf


def render_pdf(screening: Screening, author: Any, *, consent: str = "") -> bytes:
    """The web app's letter: the clinic's letterhead, the client, the stored decision."""
    clinic, client = screening.clinic, screening.client
    born = client.date_of_birth.isoformat() if client.date_of_birth else ""
    return render_letter(
        decision_of(screening),
        letterhead=Letterhead(clinic.name, clinic.address, clinic.phone),
        patient=Patient(client.name, reference=client.reference, birth_date=born),
        author=f"{author.get_full_name() or author.get_username()}, {clinic.name}",
        consent=consent,
    )
