"""Red flags the client answered yes to and then changed (issue 8 §1.3), and their consent.

The intake app records them (``clotsafe.web.intake.history``); here they are tied to the
screening made from that intake link, worded for the therapist, and acknowledged: until a
therapist has acknowledged a changed red flag, the screening is not shown as standard or adapt
(it reads "Check the changed red flag"), on the client list and on the screening page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from clotsafe.domain.types import Level
from clotsafe.render import present
from clotsafe.web.audit.services import log
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.intake import history
from clotsafe.web.screenings.models import Screening

#: the badge shown instead of a green light while a changed red flag is not acknowledged
CHECK_BADGE = present.Badge(
    id="incomplete", label="Check the changed red flag", icon="alert",
    therapist="The client first answered yes to a warning sign and then changed it. Ask about "
              "it and acknowledge it before any massage.",
)  # fmt: skip
#: kinds of screening made from the client's own intake answers
FROM_INTAKE = (Screening.Kind.INTAKE, Screening.Kind.DEMO)


@dataclass(frozen=True, slots=True)
class ChangeView:
    """One retracted red flag in words."""

    question: str
    first_answer: str
    answered_at: datetime
    shown: str
    changed_to: str
    changed_at: datetime | None


def link_of(screening: Screening) -> IntakeLink | None:
    """The intake link a screening was made from: the client's newest link created before it."""
    if screening.kind not in FROM_INTAKE:
        return None
    return (IntakeLink.objects.filter(client_id=screening.client_id,
                                      created_at__lte=screening.created_at)
            .order_by("-created_at", "-id").first())  # fmt: skip


def _words(c: history.RedFlagChange) -> ChangeView:
    shown = c.shown_text or (present.level_label(c.shown) if c.shown else "")
    return ChangeView(
        question=present.question_text(c.question_id),
        first_answer=present.value_words(c.question_id, c.first_answer),
        answered_at=c.answered_at,
        shown=shown or "No warning screen had been shown yet.",
        changed_to=present.value_words(c.question_id, c.changed_to) if c.changed_to
        else "the answer was cleared",
        changed_at=c.changed_at,
    )  # fmt: skip


def changes(screening: Screening) -> list[ChangeView]:
    link = link_of(screening)
    return [_words(c) for c in history.red_flag_changes(link)] if link else []


def consent(screening: Screening) -> history.ConsentView | None:
    link = link_of(screening)
    return history.consent_for(link) if link else None


def consent_text(screening: Screening) -> str:
    """The client's confirmation in one line (for the letter), or ""."""
    c = consent(screening)
    if c is None:
        return ""
    at = timezone.localtime(c.confirmed_at).strftime("%Y-%m-%d %H:%M")
    return f'The client confirmed the answers on {at}, typing the name "{c.name}": {c.statement}'


def other_medicines(screening: Screening) -> dict[str, str]:
    link = link_of(screening)
    return history.other_medicines(link) if link else {}


def needs_ack(screening: Screening, changed: bool | None = None) -> bool:
    """A changed red flag that no therapist has acknowledged on this screening yet."""
    if screening.red_flag_ack_at is not None or screening.kind not in FROM_INTAKE:
        return False
    return bool(changes(screening)) if changed is None else changed


def badge(screening: Screening, level_badge: present.Badge) -> present.Badge:
    """The page's badge: a changed, unacknowledged red flag withholds the green light."""
    if Level(screening.level) <= Level.ADAPT and needs_ack(screening):
        return CHECK_BADGE
    return level_badge


def list_flags(clients: Iterable[Client]) -> set[int]:
    """Ids of these clients whose latest screening has an unacknowledged changed red flag."""
    candidates = [c for c in clients if c.latest_screening
                  and c.latest_screening.kind in FROM_INTAKE
                  and c.latest_screening.red_flag_ack_at is None]  # fmt: skip
    if not candidates:
        return set()
    flagged = history.clients_with_red_flag_changes(c.pk for c in candidates)
    # an older link's change does not flag a newer intake: check the screening's own link
    return {c.pk for c in candidates if c.pk in flagged and c.latest_screening
            and needs_ack(c.latest_screening)}  # fmt: skip


def acknowledge(screening: Screening, *, by: User) -> None:
    if screening.red_flag_ack_at is not None:
        return
    screening.red_flag_ack_at = timezone.now()
    screening.red_flag_ack_by = by
    screening.save(update_fields=["red_flag_ack_at", "red_flag_ack_by"])
    log(screening.clinic, by, "change", screening, detail="changed answer acknowledged")
