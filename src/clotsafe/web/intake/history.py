"""What the therapist side reads about an intake besides its answers (issue 8 §1.3, consent,
other medicines). Plain frozen values; the models stay inside the intake app.

- :func:`red_flag_changes`: every red flag the client answered yes/unsure to and then changed.
- :func:`red_flag_reports`: every yes/unsure red-flag answer, changed or not.
- :func:`clients_with_red_flag_changes`: which of these clients have one (for the client list).
- :func:`consent_for`: the client's confirmation that the answers are theirs and true.
- :func:`other_medicines`: what the client typed beside "Another one".
- :func:`approximate_dates`: dates the client gave as "about how long ago".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from clotsafe.domain.types import Level
from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.intake.models import Consent, DraftState, OtherMedicine, RedFlagReport
from clotsafe.web.texts import client_text


@dataclass(frozen=True, slots=True)
class RedFlagChange:
    """The client answered ``first_answer`` (yes/unsure) to a red-flag question at
    ``answered_at``, was shown ``shown`` (the level of the screen they were sent to, None when
    none had been shown yet; ``shown_text`` its heading as the client read it), and changed it
    to ``changed_to`` ("no", or None when cleared / no longer asked) at ``changed_at``."""

    question_id: str
    first_answer: str
    answered_at: datetime
    shown: Level | None
    shown_text: str
    changed_to: str | None
    changed_at: datetime | None

    @property
    def retracted(self) -> bool:
        return self.changed_at is not None


def _view(r: RedFlagReport) -> RedFlagChange:
    return RedFlagChange(
        question_id=r.question_id,
        first_answer=r.answer,
        answered_at=r.answered_at,
        shown=Level(r.shown_level) if r.shown_level else None,
        shown_text=r.shown_text,
        changed_to=r.changed_to or None,
        changed_at=r.changed_at,
    )


def red_flag_reports(link: IntakeLink) -> list[RedFlagChange]:
    """Every yes/unsure answer to a red-flag question on this link, oldest first."""
    return [_view(r) for r in RedFlagReport.objects.filter(link=link)]


def red_flag_changes(link: IntakeLink) -> list[RedFlagChange]:
    """The red flags the client answered yes/unsure to and then changed, oldest first."""
    reports = RedFlagReport.objects.filter(link=link, changed_at__isnull=False)
    return [_view(r) for r in reports]


def clients_with_red_flag_changes(client_ids: Iterable[int]) -> set[int]:
    """The ids among these clients with a changed red flag on any of their intake links."""
    return set(
        RedFlagReport.objects.filter(
            link__client_id__in=list(client_ids), changed_at__isnull=False
        ).values_list("link__client_id", flat=True)
    )


@dataclass(frozen=True, slots=True)
class ConsentView:
    """The client confirmed ``statement`` by typing ``name`` at ``confirmed_at``."""

    name: str
    statement: str
    confirmed_at: datetime


def consent_for(link: IntakeLink) -> ConsentView | None:
    c = Consent.objects.filter(link=link).first()
    return ConsentView(c.name, c.statement, c.confirmed_at) if c else None


def other_medicines(link: IntakeLink) -> dict[str, str]:
    """Question id (``anticoagulant_names``, ``antiplatelet_names``) -> the words typed beside
    "Another one" (only lists where "Another one" is chosen and something was typed)."""
    chosen = link.answers
    return {
        m.question_id: m.text
        for m in OtherMedicine.objects.filter(link=link).order_by("question_id")
        if m.text and "other" in (chosen.get(m.question_id) or [])
    }


def approximate_dates(link: IntakeLink) -> dict[tuple[str | int, ...], str]:
    """The stored dates the client gave as "about how long ago" rather than as a day, by answer
    path (``("surgery_on",)``, ``("clots", 0, "diagnosed_on")``), with the choice in the
    client's words. The stored date is the most recent day of that range."""
    state = DraftState.objects.filter(link=link).first()
    if state is None:
        return {}
    words = client_text()["ago"]
    out: dict[tuple[str | int, ...], str] = {
        (qid,): words[choice] for qid, choice in state.approx.items() if qid in link.answers
    }
    records = [r for r in state.clot_drafts.get("rows", []) if r.get("kind")]
    for i, row in enumerate(records):
        if row.get("diagnosed_on-ago") and not row.get("diagnosed_on"):
            out[("clots", i, "diagnosed_on")] = words[row["diagnosed_on-ago"]]
    return out
