"""Markdown rendering of a Decision (CLI ``--format markdown``, CDS Hooks card detail, letters)."""

from __future__ import annotations

from clotsafe.domain.decision import Decision
from clotsafe.domain.types import Level
from clotsafe.render.common import headline, level_texts, plan_lines, reason_sources


def render(decision: Decision) -> str:
    title, action = headline(decision)
    out = []
    if not decision.complete:
        inc = level_texts()["incomplete"]
        out.append(
            f"> **{inc['therapist']}** {', '.join(f'`{q}`' for q in decision.pending_questions)}\n"
        )
    out.append(f"**{title}** (`{decision.level.value}`): {action}\n")
    out += _reasons(decision)
    if decision.level <= Level.CLEARANCE_REQUIRED and decision.reasons:
        out += _plan(decision)
    out.append(f"\n*Policy version {decision.policy_version}. Decision support, not a diagnosis.*")
    return "\n".join(out) + "\n"


def _reasons(d: Decision) -> list[str]:
    if not d.reasons:
        return ["No rule fired."]
    out = ["| rule | level | reason | sources | policy choice |", "|---|---|---|---|---|"]
    for r in d.reasons:
        out.append(
            f"| `{r.rule}` | {r.level.value} | {r.summary} | {reason_sources(r)} | "
            f"{'yes' if r.policy_choice else 'no'} |"
        )
    return out


def _plan(d: Decision) -> list[str]:
    once = " (once cleared)" if d.level is Level.CLEARANCE_REQUIRED else ""
    return [f"\n**Plan{once}**\n", *(f"- {line}" for line in plan_lines(d))]
