"""``Decision.from_json``: a stored decision reads back as the very decision that was stored.

The web app and the CDS letters keep ``decision.to_json()`` and render it later through the one
presenter (``clotsafe.render.present``), so reading it back must lose nothing: every level,
reason, clearance fact and cap the therapist saw when it was made must be shown again.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from clotsafe.domain.decision import Decision, Plan, Reason, StoredScore
from clotsafe.domain.errors import ClotsafeInputError
from clotsafe.domain.intake import parse_intake
from clotsafe.domain.types import Level, Urgency
from clotsafe.rules import evaluate
from tests.strategies import intakes

VIGNETTES = sorted((Path(__file__).resolve().parents[1] / "vignettes").glob("*.json"))
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decide(intake: dict[str, Any]) -> Decision:
    return evaluate(parse_intake(intake))


def _round_trip(decision: Decision) -> None:
    stored = json.loads(json.dumps(decision.to_json()))
    again = Decision.from_json(stored)
    assert again.to_json() == decision.to_json()
    assert Decision.from_json(again.to_json()) == again


@FAST
@given(intakes())
def test_round_trip_of_any_decision(intake: dict[str, Any]) -> None:
    """Whatever the engine decides, storing it and reading it back gives the same JSON, so the
    screening page shows what was decided when the client was screened."""
    _round_trip(_decide(intake))


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_round_trip_of_every_vignette(path: Path) -> None:
    """Every golden vignette's decision reads back unchanged (clearances, caps, scores)."""
    _round_trip(_decide(json.loads(path.read_text(encoding="utf-8"))["intake"]))


def _v1_decision() -> dict[str, Any]:
    """A decision as policy version 1 stored it: no unapplied_clearances, no reason clearance."""
    return {
        "policy_version": "1",
        "level": "adapt",
        "complete": True,
        "pending_questions": [],
        "reasons": [{"rule": "CLOT-ACTIVE", "level": "adapt", "summary": "A recent clot.",
                     "sources": ["S29"], "policy_choice": True, "rule_level": "clearance_required",
                     "answers": {"clots[0]": {"kind": "dvt"}}, "assumptions": [],
                     "cleared_by": {"clinician": "Dr A", "date": "2026-06-10",
                                    "valid_until": "2026-09-08"}}],
        "plan": {"pressure_max": {"left_calf": 0}, "avoid": ["left_calf"], "position": "any",
                 "gentle_joint_movement": [], "no_joint_movement": ["left_knee"],
                 "session_minutes_max": 45, "rescreen_each_visit": True, "notes": []},
        "referral": {"urgency": "none"},
        "scores": {"caprini": {"version": "2005", "lower": 3, "upper": 5, "band": "high"}},
        "screened_on": "2026-06-15",
        "settings": "default",
    }  # fmt: skip


def test_reads_a_version_1_decision() -> None:
    """Decisions stored under policy version 1 stay readable: the new 1.1 fields read as absent,
    and everything that was stored (clearance, caps, scores) is still there."""
    d = Decision.from_json(_v1_decision())
    assert d.policy_version == "1"
    assert d.unapplied_clearances == ()
    assert d.reasons[0].clearance is None
    assert d.reasons[0].cleared_by == {"clinician": "Dr A", "date": "2026-06-10",
                                       "valid_until": "2026-09-08"}  # fmt: skip
    assert d.reasons[0].rule_level is Level.CLEARANCE_REQUIRED
    assert d.plan.pressure_max["left_calf"] == 0 and d.plan.pressure_max["head"] == 5
    assert d.plan.session_minutes_max == 45
    assert d.referral is Urgency.NONE
    assert d.scores["caprini"].summary()["band"] == "high"


def test_reads_the_version_1_1_clearance_fields() -> None:
    """POLICY §8.4/§8.6/§8.7: the CLEARANCE-RESTRICTIONS reason's clearance and the clearances
    that were not applied survive storage, so the therapist still sees why."""
    obj = _v1_decision() | {"policy_version": "1.1"}
    clearance = {"rules": ["CLOT-ACTIVE"], "clinician": "Dr X", "date": "2026-09-01",
                 "valid_until": "2026-11-30"}  # fmt: skip
    obj["reasons"].append({"rule": "CLEARANCE-RESTRICTIONS", "level": "adapt", "summary": "s",
                           "sources": [], "policy_choice": True, "rule_level": "adapt",
                           "answers": {}, "assumptions": [], "clearance": clearance})  # fmt: skip
    obj["unapplied_clearances"] = [{"rule": "CLOT-ACTIVE", "why": "event_after_clearance",
                                    "clearance": clearance, "event": "clots[0].diagnosed_on",
                                    "event_on": "2026-11-20"}]  # fmt: skip
    d = Decision.from_json(obj)
    assert d.reasons[1].clearance == clearance
    assert d.unapplied_clearances[0]["why"] == "event_after_clearance"
    assert d.to_json() == {**obj, "plan": Plan.from_json(obj["plan"]).to_json()}


def test_missing_screened_on_can_come_from_the_store() -> None:
    """A decision JSON without screened_on (POLICY §7's example) takes the stored date."""
    obj = _v1_decision()
    del obj["screened_on"]
    with pytest.raises(ClotsafeInputError, match="screened_on"):
        Decision.from_json(obj)
    assert Decision.from_json(obj, screened_on=Decision.from_json(_v1_decision()).screened_on)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda o: o.update(level="green"), "level"),
        (lambda o: o.pop("complete"), "complete"),
        (lambda o: o["reasons"][0].update(sources="S29"), "reasons[0].sources"),
        (lambda o: o["plan"]["pressure_max"].update(left_calf="0"), "plan.pressure_max"),
        (lambda o: o["referral"].update(urgency="soon"), "referral.urgency"),
        (lambda o: o.update(complete="yes"), "complete"),
    ],
)
def test_a_damaged_decision_names_the_field(change: Any, field: str) -> None:
    """A damaged stored decision is never shown as something else: the error names the field,
    what was expected and what arrived."""
    obj = copy.deepcopy(_v1_decision())
    change(obj)
    with pytest.raises(ClotsafeInputError) as info:
        Decision.from_json(obj)
    assert info.value.errors[0].field == field
    assert "expected" in info.value.errors[0].message


def test_reason_and_plan_and_score_read_alone() -> None:
    """The parts read on their own too (the letter and the cards use reasons and plans)."""
    obj = _v1_decision()
    assert Reason.from_json(obj["reasons"][0]).to_json() == obj["reasons"][0]
    assert Plan.from_json(obj["plan"]).avoid == frozenset({"left_calf"})
    assert StoredScore({"lower": 1}).summary() == {"lower": 1}
