"""The consultation letter (PDF, WeasyPrint) for a clearance_required screening (POLICY §5)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from clotsafe.web import texts
from clotsafe.web.clearances.services import clearable
from clotsafe.web.screenings import present
from clotsafe.web.screenings.models import Screening


def letter_context(screening: Screening, author: Any) -> dict[str, Any]:
    return {
        "clinic": screening.clinic,
        "client": screening.client,
        "screening": screening,
        "today": timezone.localdate(),
        "author": author.get_full_name() or author.get_username(),
        "reasons": present.reasons(screening.decision),
        "covered": [r["rule"] for r in clearable(screening)],
        "questions": present.LETTER_QUESTIONS,
        "plan": present.plan_view(screening.decision),
        "walton": [(n, texts.walton(n)) for n in range(1, 6)],
    }


def render_pdf(screening: Screening, author: Any) -> bytes:
    from weasyprint import HTML  # imported here: loading it costs ~0.5 s

    html = render_to_string("clotsafe/letter.html", letter_context(screening, author))
    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    return pdf
