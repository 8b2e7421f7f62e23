"""Clinical knowledge as data: rule metadata, sources, wording. Loaded once, read-only."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from clotsafe.domain.types import Level


def load_toml(name: str) -> dict[str, Any]:
    """Read one TOML file shipped in this package."""
    with resources.files(__package__).joinpath(name).open("rb") as f:
        return tomllib.load(f)


@dataclass(frozen=True, slots=True, eq=False)  # identity: hashable despite its caps mapping
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
    #: the rule's own pressure caps (rules.toml `caps`; see its header for the key names)
    caps: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    session_minutes_max: int | None = None
    #: may a recorded clearance name this rule (red flags and CLEARANCE-RESTRICTIONS may not)
    clearable: bool = True
    #: the windows (rules.toml [window.*]) this rule reads
    windows: tuple[str, ...] = ()

    def cap(self, key: str) -> int:
        """One of the rule's own caps by its rules.toml key (KeyError names a missing one)."""
        return self.caps[key]

    def numbers(self) -> dict[str, int]:
        """The rule's own numbers as text placeholders: cap_<key>, session_minutes_max."""
        out = {f"cap_{k}": v for k, v in self.caps.items()}
        if self.session_minutes_max is not None:
            out["session_minutes_max"] = self.session_minutes_max
        return out


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """A time window or threshold of POLICY §3 (rules.toml [window.*])."""

    name: str
    value: float
    #: which way is stricter: "longer" (days), "higher" (a threshold), "lower" (a week or score)
    stricter: str
    rules: tuple[str, ...]


@cache
def windows() -> dict[str, WindowInfo]:
    """Every window and threshold with its POLICY value and the rules that use it."""
    return {
        name: WindowInfo(name, w["value"], w["stricter"], tuple(w["rules"]))
        for name, w in load_toml("rules.toml")["window"].items()
    }


@cache
def rules() -> dict[str, RuleInfo]:
    """Rule metadata by id, in POLICY.md order."""
    uses: dict[str, list[str]] = {}
    for w in windows().values():
        for rid in w.rules:
            uses.setdefault(rid, []).append(w.name)
    out: dict[str, RuleInfo] = {}
    for r in load_toml("rules.toml")["rule"]:
        out[r["id"]] = RuleInfo(
            id=r["id"], section=r["section"], level=Level(r["level"]), fires_when=r["fires_when"],
            summary=r["summary"], action=r["action"], sources=tuple(r["sources"]),
            policy_choice=r["policy_choice"], policy_note=r.get("policy_note", ""),
            plan=r.get("plan", ""), red_flag=r.get("red_flag", False),
            caps=MappingProxyType(dict(r.get("caps", {}))),
            session_minutes_max=r.get("session_minutes_max"),
            clearable=r.get("clearable", not r.get("red_flag", False)),
            windows=tuple(uses.get(r["id"], ())),
        )  # fmt: skip
    return out


def text_values(in_force: Mapping[str, float]) -> dict[str, str]:
    """Placeholders for rule texts: each window in force ({name}), POLICY's value
    ({default_name}), value + 1 ({name_next}) and value - 1 ({name_prev})."""
    out: dict[str, str] = {}
    for name, w in windows().items():
        v = in_force.get(name, w.value)
        out[name] = _num(v)
        out[f"{name}_next"] = _num(v + 1)
        out[f"{name}_prev"] = _num(v - 1)
        out[f"default_{name}"] = _num(w.value)
    return out


def _num(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)


def fill(text: str, info: RuleInfo, values: Mapping[str, str]) -> str:
    """A rule text with its placeholders filled (windows in force and the rule's own numbers)."""
    if "{" not in text:
        return text
    return text.format_map({**values, **{k: str(v) for k, v in info.numbers().items()}})


@cache
def sources() -> dict[str, str]:
    """Source tag (S#) -> citation, from FACTS.md §12."""
    return {k: str(v) for k, v in load_toml("sources.toml").items()}


def clearable_rules() -> dict[str, bool]:
    """Rule id -> may a clearance cover it (red flags may not, POLICY §5; nor may
    CLEARANCE-RESTRICTIONS, which comes from a clearance)."""
    return {rid: info.clearable for rid, info in rules().items()}
