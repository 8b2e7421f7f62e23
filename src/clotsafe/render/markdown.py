"""Markdown rendering of a Decision (CLI ``--format markdown``, CDS Hooks card detail)."""

from __future__ import annotations

from clotsafe.domain.decision import Decision
from clotsafe.render import present


def render(decision: Decision) -> str:
    out = []
    banner = present.incomplete_banner(decision)
    if banner:
        out += [f"> **{banner.title}**", ">", *(f"> - {q}" for q in banner.questions), ""]
    title = present.level_label(decision.level)
    out.append(f"**{title}** (`{decision.level.value}`): {present.action(decision)}\n")
    out.append(f"Referral: {present.urgency_text(decision.referral)}\n")
    out += _reasons(decision)
    out += [f"\n> {line}" for line in present.clearance_notices(decision)]
    if present.shows_plan(decision):
        out += _plan(decision)
    out.append(f"\n*Policy version {decision.policy_version}. Decision support, not a diagnosis.*")
    return "\n".join(out) + "\n"


def _reasons(d: Decision) -> list[str]:
    if not d.reasons:
        return ["No rule fired."]
    out = ["| rule | level | reason | sources | policy choice |", "|---|---|---|---|---|"]
    for r in present.reasons(d):
        summary = " ".join(filter(None, (r.summary, r.raised, r.clearance)))
        out.append(
            f"| `{r.rule}` | {r.badge.label} | {_cell(summary)} | {r.sources} | "
            f"{'yes' if r.policy_choice else 'no'} |"
        )
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _plan(d: Decision) -> list[str]:
    once = " (once cleared)" if present.plan(d).once_cleared else ""
    return [f"\n**Plan{once}**\n", *(f"- {line}" for line in present.plan_lines(d))]
