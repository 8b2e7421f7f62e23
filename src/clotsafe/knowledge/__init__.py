"""Clinical knowledge as data: rule metadata, sources, wording. Loaded once, read-only."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from clotsafe.domain.types import Level


def load_toml(name: str) -> dict[str, Any]:
    """Read one TOML file shipped in this package."""
    with resources.files(__package__).joinpath(name).open("rb") as f:
        return tomllib.load(f)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    section: str
    level: Level
    fires_when: str
    summary: str
    action: str
    sources: tuple[str, ...]
    policy_choice: bool
    policy_note: str = ""
    plan: str = ""
    red_flag: bool = False


@cache
def rules() -> dict[str, RuleInfo]:
    """Rule metadata by id, in POLICY.md order."""
    out: dict[str, RuleInfo] = {}
    for r in load_toml("rules.toml")["rule"]:
        out[r["id"]] = RuleInfo(
            id=r["id"], section=r["section"], level=Level(r["level"]), fires_when=r["fires_when"],
            summary=r["summary"], action=r["action"], sources=tuple(r["sources"]),
            policy_choice=r["policy_choice"], policy_note=r.get("policy_note", ""),
            plan=r.get("plan", ""), red_flag=r.get("red_flag", False),
        )  # fmt: skip
    return out


@cache
def sources() -> dict[str, str]:
    """Source tag (S#) -> citation, from FACTS.md §12."""
    return {k: str(v) for k, v in load_toml("sources.toml").items()}


def clearable_rules() -> dict[str, bool]:
    """Rule id -> may a clearance cover it (red flags may not, POLICY §5)."""
    return {rid: not info.red_flag for rid, info in rules().items()}
