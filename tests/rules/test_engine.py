"""Engine mechanics that vignettes do not show directly: triggers, determinism, the trace."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from tests.helpers import intake

from clotsafe.domain.intake import parse_intake
from clotsafe.knowledge import rules as rule_info
from clotsafe.rules import evaluate
from clotsafe.rules.registry import RULES, TRIGGERS, Ctx, active_answers
from clotsafe.rules.settings import Windows

RECENT_CLOT = {
    "clot_ever": "yes",
    "clots": [
        {"kind": "dvt", "site": "left_calf", "diagnosed_on": "2026-10-01", "treatment": "ongoing"}
    ],
}


def test_every_rule_is_registered_once_with_metadata() -> None:
    """The registry and the rule metadata (knowledge/rules.toml) name the same 31 rules."""
    assert list(RULES) == list(rule_info())
    assert len(RULES) == 31


try:
    from tests.strategies import intakes
except ImportError:  # pragma: no cover - strategies land with the property tests
    intakes = None


if intakes is not None:

    @settings(max_examples=300, deadline=None)
    @given(intakes())
    def test_triggers_never_hide_a_rule(obj: dict[str, object]) -> None:
        """Skipping a rule whose trigger answers are all "no"/missing never hides a firing."""
        parsed = parse_intake(obj)
        ctx = Ctx(parsed.answers, parsed.screened_on, Windows())
        active = active_answers(parsed.answers)
        for rid, fn in RULES.items():
            needs = TRIGGERS[rid]
            if needs is not None and needs.isdisjoint(active):
                assert fn(ctx) is None, rid


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
    assert j["policy_version"] == "1"


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


def test_clearance_restrictions_follow_covered_rules() -> None:
    """A clearance's restrictions apply with a covered rule that fires, never to a standard
    decision (POLICY §1: standard means nothing restricts today's massage)."""
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
    assert without["level"] == "standard"
    assert set(without["plan"]["pressure_max"].values()) == {5} and not without["plan"]["avoid"]
