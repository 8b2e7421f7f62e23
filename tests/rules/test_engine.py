"""Engine mechanics that vignettes do not show directly: triggers, determinism, the trace."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from tests.helpers import intake
from tests.strategies import intakes

from clotsafe.domain.intake import parse_intake
from clotsafe.knowledge import rules as rule_info
from clotsafe.rules import evaluate
from clotsafe.rules.builtin import register
from clotsafe.rules.registry import (
    Ctx,
    DuplicateRuleError,
    RuleRegistry,
    active_answers,
    builtin_rules,
)
from clotsafe.rules.settings import Windows

RECENT_CLOT = {
    "clot_ever": "yes",
    "clots": [
        {"kind": "dvt", "site": "left_calf", "diagnosed_on": "2026-10-01", "treatment": "ongoing"}
    ],
}


def test_every_rule_is_registered_once_with_metadata() -> None:
    """The registry and the rule metadata (knowledge/rules.toml) name the same 31 rules of
    POLICY §3 (rules.toml adds CLEARANCE-RESTRICTIONS, which comes from clearances)."""
    assert [*builtin_rules().ids(), "CLEARANCE-RESTRICTIONS"] == list(rule_info())
    assert len(builtin_rules()) == 31


def test_registering_a_rule_twice_is_an_error() -> None:
    """Registries are explicit objects; a second registration of one id never replaces the
    first silently (a plug-in cannot shadow a built-in rule)."""
    reg = register(RuleRegistry())
    with pytest.raises(DuplicateRuleError, match="CLOT-ACTIVE"):
        reg.register("CLOT-ACTIVE", lambda ctx: None)


def test_a_registry_is_passed_in() -> None:
    """evaluate() uses the registry it is given: an empty one fires nothing (no globals)."""
    obj = intake(RECENT_CLOT)
    assert evaluate(parse_intake(obj), rules=RuleRegistry()).fired == ()
    assert evaluate(parse_intake(obj), rules=builtin_rules()).fired[0] == "CLOT-ACTIVE"


@settings(max_examples=300, deadline=None)
@given(intakes())
def test_triggers_never_hide_a_rule(obj: dict[str, object]) -> None:
    """Skipping a rule whose trigger answers are all "no"/missing never hides a firing."""
    parsed = parse_intake(obj)
    ctx = Ctx(parsed.answers, parsed.screened_on, Windows())
    active = active_answers(parsed.answers)
    for rule in builtin_rules():
        if rule.triggers is not None and rule.triggers.isdisjoint(active):
            assert rule.fn(ctx) is None, rule.id


def test_clock_is_passed_in() -> None:
    """Evaluating at a later date ages the clot: the same intake gives CLOT-HISTORY later."""
    obj = intake(RECENT_CLOT)
    parsed = parse_intake(obj)
    assert evaluate(parsed).fired[0] == "CLOT-ACTIVE"
    assert evaluate(parsed, at=date(2027, 3, 1)).fired[0] == "CLOT-HISTORY"


def test_reasons_carry_their_trace_and_assumptions() -> None:
    """Every reason lists the answers it read and how unknowns were read (explainability)."""
    obj = intake({"clot_ever": "yes", "clots": [{"kind": "unsure"}]})
    reason = evaluate(parse_intake(obj)).to_json()["reasons"][0]
    assert reason["rule"] == "CLOT-ACTIVE"
    assert reason["answers"]["clots[0]"] == {"kind": "unsure"}
    assert any("counted as dvt" in a for a in reason["assumptions"])
    assert any("counted as legs" in a for a in reason["assumptions"])


def test_decision_json_has_the_public_contract() -> None:
    """POLICY §7: the fields of the decision JSON that may not be renamed or removed."""
    d = evaluate(parse_intake(intake({"anticoagulant": "yes", "rf_unusual_bleeding": "no"})))
    j = d.to_json()
    assert {
        "policy_version",
        "level",
        "complete",
        "pending_questions",
        "reasons",
        "plan",
        "referral",
        "scores",
    } <= set(j)
    assert {
        "pressure_max",
        "avoid",
        "position",
        "gentle_joint_movement",
        "session_minutes_max",
        "rescreen_each_visit",
        "notes",
    } <= set(j["plan"])
    assert len(j["plan"]["pressure_max"]) == 21
    assert {"rule", "level", "summary", "sources", "policy_choice"} <= set(j["reasons"][0])
    assert {"version", "lower", "upper", "band", "items", "not_assessed"} <= set(
        j["scores"]["caprini"]
    )
    assert j["policy_version"] == "1.1"


def test_expired_clearance_is_listed() -> None:
    """An expired clearance covers nothing and is shown so the therapist asks again."""
    obj = intake(
        RECENT_CLOT,
        clearances=[
            {
                "rules": ["CLOT-ACTIVE"],
                "clinician": "Dr A",
                "date": "2026-10-02",
                "valid_until": "2026-11-01",
            }
        ],
    )
    j = evaluate(parse_intake(obj)).to_json()
    assert j["level"] == "clearance_required"
    assert j["expired_clearances"][0]["valid_until"] == "2026-11-01"


def test_clearance_restrictions_last_as_long_as_the_clearance() -> None:
    """POLICY §8.6: a valid clearance's restrictions apply whether or not the rules it covers
    still fire, under the reason CLEARANCE-RESTRICTIONS (level adapt, with the clinician, the
    date and the last valid day), so a decision with restrictions is never standard."""
    cl = [
        {
            "rules": ["CLOT-ACTIVE"],
            "clinician": "Dr A",
            "date": "2026-11-01",
            "restrictions": {"pressure_max": {"legs": 1}, "avoid": ["abdomen"]},
        }
    ]
    with_clot = evaluate(parse_intake(intake(RECENT_CLOT, clearances=cl))).to_json()
    assert with_clot["level"] == "adapt"
    assert with_clot["plan"]["pressure_max"]["right_calf"] == 1
    assert "abdomen" in with_clot["plan"]["avoid"]
    without = evaluate(parse_intake(intake(clearances=cl))).to_json()
    assert without["level"] == "adapt"
    assert [r["rule"] for r in without["reasons"]] == ["CLEARANCE-RESTRICTIONS"]
    assert without["reasons"][0]["clearance"] == {
        "rules": ["CLOT-ACTIVE"],
        "clinician": "Dr A",
        "date": "2026-11-01",
        "valid_until": "2027-01-30",
    }
    assert without["plan"]["pressure_max"]["right_calf"] == 1
    assert without["plan"]["avoid"] == ["abdomen"]
