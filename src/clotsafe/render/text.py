"""The terminal summary for a therapist (``clotsafe screen --format text``)."""

from __future__ import annotations

from clotsafe.domain.decision import Decision
from clotsafe.domain.types import Level
from clotsafe.render.common import headline, level_texts, plan_lines, reason_sources


def render(decision: Decision) -> str:
    lines = _header(decision) + _reasons(decision)
    if decision.reasons and decision.level <= Level.CLEARANCE_REQUIRED:
        lines += _plan(decision)
    lines += _footer(decision)
    return "\n".join(lines) + "\n"


def _header(d: Decision) -> list[str]:
    title, action = headline(d)
    lines = []
    if not d.complete:
        inc = level_texts()["incomplete"]
        lines += [
            f"!! {inc['therapist'].upper()}",
            "   Pending: " + ", ".join(d.pending_questions),
            "",
        ]
    lines += [
        f"LEVEL: {title.upper()} ({d.level.value})",
        f"  {action}",
        f"  Referral: {d.referral.value}",
        "",
    ]
    return lines


def _reasons(d: Decision) -> list[str]:
    if not d.reasons:
        return ["Reasons: no rule fired.", ""]
    lines = ["Reasons:"]
    for r in d.reasons:
        mark = " [policy choice]" if r.policy_choice else ""
        lines.append(f"  - {r.rule} ({r.level.value}){mark}: {r.summary}")
        lines.append(f"      sources: {reason_sources(r)}")
        if r.cleared_by:
            lines.append(
                f"      cleared by {r.cleared_by['clinician']} on {r.cleared_by['date']}"
                f", valid until {r.cleared_by['valid_until']}"
            )
        lines += [f"      assumed: {a}" for a in r.assumptions]
    return [*lines, ""]


def _plan(d: Decision) -> list[str]:
    once = " (once cleared)" if d.level is Level.CLEARANCE_REQUIRED else ""
    return [f"Plan{once}:", *(f"  - {line}" for line in plan_lines(d)), ""]


def _footer(d: Decision) -> list[str]:
    lines = []
    if d.plan.rescreen_each_visit:
        lines.append("Ask the red-flag questions again at the start of every session.")
    for c in d.expired_clearances:
        lines.append(
            f"Clearance from {c['clinician']} ({', '.join(c['rules'])}) expired on "
            f"{c['valid_until']}: ask again."
        )
    caprini = d.scores["caprini"].summary() if "caprini" in d.scores else None
    if caprini:
        lines.append(f"Caprini 2005: {caprini['lower']}–{caprini['upper']} ({caprini['band']})")
    lines.append(
        f"Policy version {d.policy_version}; screened on {d.screened_on.isoformat()}. "
        "Decision support, not a diagnosis."
    )
    return lines
