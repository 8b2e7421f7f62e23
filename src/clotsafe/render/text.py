"""The terminal summary for a therapist (``clotsafe screen --format text``)."""

from __future__ import annotations

from clotsafe.domain.decision import Decision
from clotsafe.render import present


def render(decision: Decision) -> str:
    lines = _header(decision) + _reasons(decision)
    if present.shows_plan(decision):
        lines += _plan(decision)
    lines += _footer(decision)
    return "\n".join(lines) + "\n"


def _header(d: Decision) -> list[str]:
    lines = []
    banner = present.incomplete_banner(d)
    if banner:
        lines += [f"!! {banner.title.upper()}", *(f"   - {q}" for q in banner.questions), ""]
    lines += [
        f"LEVEL: {present.level_label(d.level).upper()} ({d.level.value})",
        f"  {present.action(d)}",
        f"  Referral: {present.urgency_text(d.referral)}",
        "",
    ]
    return lines


def _reasons(d: Decision) -> list[str]:
    if not d.reasons:
        return ["Reasons: no rule fired.", ""]
    lines = ["Reasons:"]
    for r in present.reasons(d):
        mark = " [policy choice]" if r.policy_choice else ""
        lines.append(f"  - {r.rule} ({r.badge.label}){mark}: {r.summary}")
        lines.append(f"      sources: {r.sources}")
        lines += [f"      {line}" for line in (r.raised, r.clearance) if line]
        lines += [f"      assumed: {a}" for a in r.assumptions]
    return [*lines, ""]


def _plan(d: Decision) -> list[str]:
    once = " (once cleared)" if present.plan(d).once_cleared else ""
    return [f"Plan{once}:", *(f"  - {line}" for line in present.plan_lines(d)), ""]


def _footer(d: Decision) -> list[str]:
    lines = []
    if d.plan.rescreen_each_visit:
        lines.append("Ask the red-flag questions again at the start of every session.")
    lines += present.clearance_notices(d)
    caprini = present.caprini(d)
    if caprini:
        lines.append(caprini.text)
    lines.append(
        f"Policy version {d.policy_version}; screened on {d.screened_on.isoformat()}. "
        "Decision support, not a diagnosis."
    )
    return lines
