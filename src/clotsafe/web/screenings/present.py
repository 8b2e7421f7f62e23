"""What the screening page, the client list and the letter show: built from the stored decision.

Templates only display these values; every choice (labels, icons, which questions the letter
asks) is made here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from clotsafe.calculators import caprini
from clotsafe.domain.questions import BY_ID
from clotsafe.knowledge import rules as rule_info
from clotsafe.knowledge import sources
from clotsafe.web import texts
from clotsafe.web.screenings.bodymap import body_map

POSITIONS = {
    "any": "Any position",
    "side_lying_preferred": "Side-lying preferred",
    "side_lying_or_semi_reclining": "Side-lying or semi-reclining only",
}
URGENCY = {
    "none": "None",
    "suggested": "Suggested: discuss massage with a clinician",
    "before_massage": "Before any massage: clinician's answer needed",
    "same_day": "Same day: medical assessment today",
    "emergency": "Emergency services now",
}
#: the specific questions of the consultation letter (POLICY §5; FACTS §7.3, S30)
LETTER_QUESTIONS = (
    "Is massage away from the clot site (or the affected area) acceptable at this time?",
    "Which maximum pressure level (Walton scale 1–5, see overleaf) do you advise, overall and "
    "for the affected limb or region?",
    "Is there any region that should not be massaged at all?",
    "Until when does this answer apply (or when should we ask again)?",
)


#: levels that would let massage go ahead: an incomplete screening must never show them as such
_GO_AHEAD = ("standard", "adapt")


def level_badge(level: str, emergency_number: str = "911", complete: bool = True) -> dict[str, str]:
    """Label, icon and class of a level. An incomplete screening is never shown as a green
    light (POLICY §2): standard/adapt become "Incomplete" with the alert icon."""
    if level in _GO_AHEAD and not complete:
        return {"id": "incomplete", "label": "Screening incomplete", "icon": "alert",
                "therapist": texts.levels()["incomplete"]["therapist"]}  # fmt: skip
    info = texts.level(level) if level else {"label": "Not screened", "icon": "none"}
    return {
        "id": level or "none",
        "label": info["label"],
        "icon": info["icon"],
        "therapist": texts.fill(info.get("therapist", ""), number=emergency_number),
    }


@cache
def _caprini_labels() -> dict[str, str]:
    return {i.id: i.label for i in caprini.ITEMS}


def _cite(tags: list[str]) -> list[tuple[str, str]]:
    cites = sources()
    return [(t, cites.get(t, t)) for t in tags]


def reasons(decision: Mapping[str, Any]) -> list[dict[str, Any]]:
    info = rule_info()
    out = []
    for r in decision.get("reasons", []):
        meta = info.get(r["rule"])
        out.append({**r, "badge": level_badge(r["level"]),
                    "action": meta.action if meta else "",
                    "citations": _cite(list(r.get("sources", []))),
                    "answers_text": _answers_text(r.get("answers", {}))})  # fmt: skip
    return out


def _answers_text(answers: Mapping[str, Any]) -> list[str]:
    out = []
    for k, v in answers.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a}: {b}" for a, b in v.items())
        elif isinstance(v, list):
            v = ", ".join(str(x) for x in v)
        out.append(f"{k} = {v}")
    return out


def pending(decision: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"id": q, "text": texts.question(q)["text"] if q in BY_ID else q}
            for q in decision.get("pending_questions", [])]  # fmt: skip


def caprini_view(decision: Mapping[str, Any]) -> dict[str, Any] | None:
    c = decision.get("scores", {}).get("caprini")
    if not c:
        return None
    labels = _caprini_labels()
    return {
        **c,
        "item_rows": [{"label": labels.get(i["id"], i["id"]), "points": i["points"]}
                      for i in c.get("items", [])],
        "unknown_labels": [labels.get(i, i) for i in c.get("unknown", [])],
        "not_assessed_labels": [labels.get(i, i) for i in c.get("not_assessed", [])],
    }  # fmt: skip


def plan_view(decision: Mapping[str, Any]) -> dict[str, Any]:
    plan = decision.get("plan", {})
    names = texts.region_label
    return {
        "position": POSITIONS.get(plan.get("position", "any"), plan.get("position")),
        "gentle": [names(r) for r in plan.get("gentle_joint_movement", [])],
        "no_joint": [names(r) for r in plan.get("no_joint_movement", [])],
        "minutes": plan.get("session_minutes_max"),
        "rescreen": plan.get("rescreen_each_visit", False),
        "notes": plan.get("notes", []),
        "map": body_map(plan),
    }


def screening_context(screening: Any, emergency_number: str) -> dict[str, Any]:
    d = screening.decision
    return {
        "badge": level_badge(d["level"], emergency_number, d.get("complete", False)),
        "complete": d.get("complete", False),
        "incomplete_text": texts.levels()["incomplete"]["therapist"],
        "reasons": reasons(d),
        "pending": pending(d),
        "caprini": caprini_view(d),
        "plan": plan_view(d),
        "referral": URGENCY.get(d.get("referral", {}).get("urgency", "none"), ""),
        "expired_clearances": d.get("expired_clearances", []),
        "policy_version": screening.policy_version,
        "clearance_required": d["level"] == "clearance_required",
    }
