"""``clotsafe rules``: every rule of the policy, from the rule metadata (knowledge/rules.toml).

The texts are filled with POLICY's own numbers (the windows' default values and each rule's
caps), so docs/rules.md, which is this command's Markdown output, is generated from the one
place where the numbers live.
"""

from __future__ import annotations

from functools import cache

import orjson

from clotsafe.knowledge import RuleInfo, fill, text_values
from clotsafe.knowledge import rules as rule_info
from clotsafe.knowledge import windows as window_info


@cache
def _defaults() -> dict[str, str]:
    return text_values({})


def _text(r: RuleInfo, text: str) -> str:
    return fill(text, r, _defaults())


def _as_dict(r: RuleInfo) -> dict[str, object]:
    return {
        "id": r.id,
        "level": r.level.value,
        "section": r.section,
        "fires_when": _text(r, r.fires_when),
        "summary": _text(r, r.summary),
        "action": r.action,
        "plan": _text(r, r.plan),
        "caps": dict(r.caps),
        "session_minutes_max": r.session_minutes_max,
        "windows": list(r.windows),
        "sources": list(r.sources),
        "policy_choice": r.policy_choice,
        "policy_note": _text(r, r.policy_note),
        "red_flag": r.red_flag,
        "clearable": r.clearable,
    }


def _numbers(r: RuleInfo) -> str:
    caps = ", ".join(f"{k} {v}" for k, v in r.caps.items())
    if r.session_minutes_max is not None:
        caps += f"; session {r.session_minutes_max} min"
    return caps or "–"


def _markdown(infos: list[RuleInfo]) -> str:
    rows = [
        "| id | level | fires when | plan | caps | sources | policy choice |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in infos:
        note = "yes: " + _text(r, r.policy_note) if r.policy_choice else "no"
        rows.append(
            f"| `{r.id}` | {r.level.value} | {_text(r, r.fires_when)} | "
            f"{_text(r, r.plan) or r.action} | {_numbers(r)} | {', '.join(r.sources)} | {note} |"
        )
    rows += [
        "",
        "| window | POLICY value | a clinic may make it | used by |",
        "|---|---|---|---|",
    ]
    for w in window_info().values():
        used = ", ".join(f"`{rid}`" for rid in w.rules)
        rows.append(f"| `{w.name}` | {_defaults()[w.name]} | {w.stricter} | {used} |")
    return "\n".join(rows) + "\n"


def render_rules(fmt: str) -> str:
    infos = list(rule_info().values())
    if fmt == "json":
        return (
            orjson.dumps([_as_dict(r) for r in infos], option=orjson.OPT_INDENT_2).decode() + "\n"
        )
    if fmt == "markdown":
        return _markdown(infos)
    out = []
    for r in infos:
        mark = "  [policy choice]" if r.policy_choice else ""
        out += [
            f"{r.id}  ({r.level.value}){mark}",
            f"    fires when: {_text(r, r.fires_when)}",
            f"    does: {_text(r, r.plan) or r.action}",
            f"    sources: {', '.join(r.sources)}",
        ]
        if r.policy_note:
            out.append(f"    policy: {_text(r, r.policy_note)}")
    return "\n".join(out) + "\n"
