"""Plan parts are immutable values: no rule can change another rule's plan (an earlier PlanPart
shared one mutable empty set between all parts, so adding to one added to all)."""

from __future__ import annotations

import dataclasses

import pytest

from clotsafe.domain.types import Position
from clotsafe.rules.plan import PlanPart, combine
from clotsafe.rules.registry import NO_PART, Firing


def test_parts_share_nothing() -> None:
    """Building on one part never changes another, not even the shared empty default."""
    a, b = PlanPart(), PlanPart()
    a2 = a.avoid_regions({"left_calf"}).gentle_joints({"left_knee"}).no_joints({"left_foot"})
    assert a2.avoid == {"left_calf"} and a2.gentle_joint_movement == {"left_knee"}
    for part in (a, b, NO_PART):
        assert part.avoid == frozenset() and part.gentle_joint_movement == frozenset()
        assert part.no_joint_movement == frozenset() and dict(part.caps) == {}
    assert a.cap({"head"}, 2).caps == {"head": 2} and dict(b.caps) == {}


def test_mutation_is_impossible() -> None:
    """Every field is read-only and every collection is immutable."""
    part = PlanPart().cap({"head"}, 2).avoid_regions({"neck"}).note("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        part.floor = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        part.avoid.add("chest")  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        part.gentle_joint_movement.add("chest")  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        part.caps["head"] = 5  # type: ignore[index]
    with pytest.raises(AttributeError):
        part.notes.append("y")  # type: ignore[attr-defined]
    firing = Firing({"a": "yes"}, part)
    with pytest.raises(dataclasses.FrozenInstanceError):
        firing.part = NO_PART  # type: ignore[misc]
    plan = combine([part], rescreen=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.position = Position.ANY  # type: ignore[misc]


def test_caps_only_go_down() -> None:
    """A later, higher cap never raises an earlier, lower one (POLICY §3)."""
    part = PlanPart().cap({"head"}, 1).cap({"head"}, 4)
    assert part.caps["head"] == 1
    assert part.session_at_most(45).session_at_most(60).session_minutes_max == 45
    pos = PlanPart().at_most(Position.SIDE_LYING_OR_SEMI_RECLINING)
    assert (
        pos.at_most(Position.SIDE_LYING_PREFERRED).position is Position.SIDE_LYING_OR_SEMI_RECLINING
    )
