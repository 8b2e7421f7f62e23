"""``clotsafe rules``: every rule of the policy, from the rule metadata."""

from __future__ import annotations

import orjson

from clotsafe.knowledge import RuleInfo
from clotsafe.knowledge import rules as rule_info


def _as_dict(r: RuleInfo) -> dict[str, object]:
    return {
        "id": r.id,
        "level": r.level.value,
        "section": r.section,
        "fires_when": r.fires_when,
        "summary": r.summary,
        "action": r.action,
        "plan": r.plan,
        "sources": list(r.sources),
        "policy_choice": r.policy_choice,
        "policy_note": r.policy_note,
        "red_flag": r.red_flag,
    }


def render_rules(fmt: str) -> str:
    infos = list(rule_info().values())
    if fmt == "json":
        return (
            orjson.dumps([_as_dict(r) for r in infos], option=orjson.OPT_INDENT_2).decode() + "\n"
        )
    if fmt == "markdown":
        rows = [
            "| id | level | fires when | plan | sources | policy choice |",
            "|---|---|---|---|---|---|",
        ]
        rows += [
            f"| `{r.id}` | {r.level.value} | {r.fires_when} | {r.plan or r.action} | "
            f"{', '.join(r.sources)} | {'yes: ' + r.policy_note if r.policy_choice else 'no'} |"
            for r in infos
        ]
        return "\n".join(rows) + "\n"
    out = []
    for r in infos:
        mark = "  [policy choice]" if r.policy_choice else ""
        out += [
            f"{r.id}  ({r.level.value}){mark}",
            f"    fires when: {r.fires_when}",
            f"    does: {r.plan or r.action}",
            f"    sources: {', '.join(r.sources)}",
        ]
        if r.policy_note:
            out.append(f"    policy: {r.policy_note}")
    return "\n".join(out) + "\n"
