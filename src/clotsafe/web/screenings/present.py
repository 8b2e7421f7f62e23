"""What the screening page, the client list and the letter show, from the stored decision.

The stored decision JSON is read back with ``Decision.from_json`` and worded by the one
presenter, :mod:`clotsafe.render.present` (the same words as the CLI and the CDS Hooks cards).
Templates only display these values.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from clotsafe.domain.decision import Decision
from clotsafe.domain.types import Level
from clotsafe.render import present
from clotsafe.web.screenings.bodymap import body_map

#: the specific questions of the consultation letter (POLICY §5; FACTS §7.3, S30)
LETTER_QUESTIONS = (
    "Is massage away from the clot site (or the affected area) acceptable at this time?",
    "Which maximum pressure level (Walton scale 1–5, see overleaf) do you advise, overall and "
    "for the affected limb or region?",
    "Is there any region that should not be massaged at all?",
    "Until when does this answer apply (or when should we ask again)?",
)


def level_badge(level: str, emergency_number: str = "911",
                complete: bool = True) -> present.Badge:  # fmt: skip
    """The badge of a stored level ("" when not screened yet): the list and the client pages
    read the level column, not the whole decision, so that long lists stay fast."""
    return present.level_badge(Level(level) if level else None, complete, emergency_number)


def decision_of(screening: Any) -> Decision:
    """The stored decision of a screening, as the Decision it was."""
    return Decision.from_json(screening.decision, screened_on=screening.screened_on)


def letter_fits(decision: Decision) -> bool:
    """A consultation letter is offered only where it can help: the screening is
    clearance_required and names rules a clinician can clear. Never for an emergency or a
    same-day referral (the client needs care now, not a letter) nor for a decision with nothing
    left to clear."""
    return decision.level is Level.CLEARANCE_REQUIRED and bool(present.rules_to_clear(decision))


def reasons(decision: Decision) -> list[present.ReasonView]:
    """The presenter's reasons; a rule a clinician has cleared says what to do now (the
    action of the level it has now), not the action of its level before the clearance."""
    out = []
    for view, reason in zip(present.reasons(decision), decision.reasons, strict=True):
        if reason.cleared_by:
            view = replace(view, action=present.level_badge(reason.level).therapist)
        out.append(view)
    return out


def screening_context(screening: Any, emergency_number: str) -> dict[str, Any]:
    d = decision_of(screening)
    return {
        "badge": present.badge(d, emergency_number),
        "action": present.action(d, emergency_number),
        "incomplete": present.incomplete_banner(d),
        "reasons": reasons(d),
        "clearance_notices": present.clearance_notices(d),
        "caprini": present.caprini(d),
        "plan": present.plan(d),
        "map": body_map(d.plan, complete=d.complete),
        "referral": present.urgency_text(d.referral),
        "policy_version": d.policy_version,
        "clearance_required": d.level is Level.CLEARANCE_REQUIRED,
        "letter": letter_fits(d),
    }
