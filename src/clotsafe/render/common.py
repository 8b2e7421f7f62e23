"""Pieces every renderer shares: level wording, region names, the plan grouped by cap."""

from __future__ import annotations

from functools import cache
from typing import Any

from clotsafe.domain.decision import Decision
from clotsafe.domain.regions import REGIONS
from clotsafe.knowledge import load_toml

#: the emergency numbers named where no clinic has set its own (POLICY §1)
EMERGENCY_NUMBERS = "911/999/112"


@cache
def level_texts() -> dict[str, Any]:
    """knowledge/levels.toml: [level.<id>] label/icon/client/therapist, and [incomplete]."""
    return load_toml("levels.toml")


def region_name(region: str) -> str:
    return region.replace("_", " ")


def headline(decision: Decision) -> tuple[str, str]:
    """(title, what the therapist does) for the decision's level."""
    t: dict[str, str] = level_texts()["level"][decision.level.value]
    return t["label"], t["therapist"].replace("{number}", EMERGENCY_NUMBERS)


def caps_by_level(decision: Decision) -> list[tuple[int, list[str]]]:
    """Regions grouped by their cap, lowest cap first (0 = do not work)."""
    groups: dict[int, list[str]] = {}
    for r in REGIONS:
        groups.setdefault(decision.plan.pressure_max[r], []).append(r)
    return sorted(groups.items())


def cap_label(cap: int) -> str:
    return "do not work" if cap == 0 else f"pressure ≤ {cap}"


def reason_sources(reason: Any) -> str:
    return ", ".join(reason.sources)


def plan_lines(decision: Decision) -> list[str]:
    """The plan as short lines (no bullets): caps by region, position, joints, length, notes."""
    p = decision.plan
    out = [
        f"{cap_label(cap)}: {', '.join(map(region_name, regions))}"
        for cap, regions in caps_by_level(decision)
    ]
    out.append(f"position: {p.position.value}")
    if p.no_joint_movement:
        out.append("no joint mobilisation: " + _names(p.no_joint_movement))
    if p.gentle_joint_movement:
        out.append("gentle joint movement only: " + _names(p.gentle_joint_movement))
    if p.session_minutes_max:
        out.append(f"session ≤ {p.session_minutes_max} min")
    return out + list(p.notes)


def _names(regions: frozenset[str]) -> str:
    return ", ".join(region_name(r) for r in REGIONS if r in regions)
