"""Clinic settings (POLICY §6): stricter is accepted and applied; weaker is rejected by name."""

from __future__ import annotations

import pytest
from tests.helpers import intake

from clotsafe.domain.errors import SettingsError
from clotsafe.domain.intake import parse_intake
from clotsafe.domain.types import Level
from clotsafe.rules import evaluate, load_settings

OLD_CLOT = {
    "clot_ever": "yes",
    "clots": [
        {"kind": "dvt", "site": "left_calf", "diagnosed_on": "2026-06-01", "treatment": "finished"}
    ],
}


def _decide(answers: dict[str, object], toml: str = "") -> dict[str, object]:
    return evaluate(parse_intake(intake(answers)), settings=load_settings(toml)).to_json()


def test_raise_level_requires_clearance_for_clot_history() -> None:
    """A clinic may require clearance for any clot history."""
    d = _decide(OLD_CLOT, '[rules.CLOT-HISTORY]\nlevel = "clearance_required"\n')
    assert d["level"] == "clearance_required"
    reason = d["reasons"][0]
    assert reason["rule"] == "CLOT-HISTORY"
    assert reason["default_level"] == "adapt"


def test_longer_clot_window_keeps_clot_active() -> None:
    """Treating clots as active for 180 days turns a 177-day-old clot back into CLOT-ACTIVE."""
    assert _decide(OLD_CLOT)["reasons"][0]["rule"] == "CLOT-HISTORY"
    d = _decide(OLD_CLOT, "[windows]\nclot_active_days = 180\n")
    assert next(r["rule"] for r in d["reasons"]) == "CLOT-ACTIVE"


def test_extra_caps_avoid_and_session_apply_when_the_rule_fires() -> None:
    """Lower caps, added regions and shorter sessions are applied with the rule's plan."""
    toml = (
        '[rules.MED-ANTICOAG]\npressure_max = { legs = 1, all = 2 }\navoid = ["abdomen"]\n'
        "session_minutes_max = 30\n"
    )
    plan = _decide({"anticoagulant": "yes", "rf_unusual_bleeding": "no"}, toml)["plan"]
    assert plan["pressure_max"]["left_calf"] == 1 and plan["pressure_max"]["head"] == 2
    assert "abdomen" in plan["avoid"] and plan["session_minutes_max"] == 30
    assert _decide({}, toml)["plan"]["session_minutes_max"] is None


@pytest.mark.parametrize(
    ("toml", "field", "words"),
    [
        ('[rules.CLOT-ACTIVE]\nlevel = "adapt"\n', "rules.CLOT-ACTIVE.level", "CLOT-ACTIVE"),
        ('[rules.RF-PE]\nlevel = "urgent_referral"\n', "rules.RF-PE.level", "RF-PE"),
        (
            "[rules.MED-ANTICOAG]\npressure_max = { all = 6 }\n",
            "rules.MED-ANTICOAG.pressure_max.all",
            "MED-ANTICOAG",
        ),
        ("[rules.TRAVEL]\nenabled = false\n", "rules.TRAVEL.enabled", "cannot be disabled"),
        ("[windows]\nclot_active_days = 60\n", "windows.clot_active_days", "shorten"),
        (
            "[windows]\npregnancy_side_lying_week = 16\n",
            "windows.pregnancy_side_lying_week",
            "raise",
        ),
        ("clearance_valid_days = 120\n", "clearance_valid_days", "only shorten"),
        (
            "[interpretation]\nno_massage_plan = false\n",
            "interpretation.no_massage_plan",
            "cannot be turned off",
        ),
        ('[rules.NOPE]\nlevel = "emergency"\n', "rules.NOPE", "unknown rule"),
        ("[rules.TRAVEL]\npressure = 1\n", "rules.TRAVEL.pressure", "unknown setting"),
        ("not toml = = 1", "", "not valid TOML"),
    ],
)
def test_weakening_settings_are_rejected(toml: str, field: str, words: str) -> None:
    """Anything that would weaken the policy is refused at load, naming rule and setting."""
    with pytest.raises(SettingsError) as exc:
        load_settings(toml)
    assert any(e.field == field and words in e.message for e in exc.value.errors), exc.value


def test_red_flag_can_be_raised() -> None:
    """Raising a red flag (heart racing → emergency) is stricter and allowed."""
    d = _decide({"rf_heart_racing": "yes"}, '[rules.RF-HR]\nlevel = "emergency"\n')
    assert d["level"] == Level.EMERGENCY.value


def test_shorter_clearance_validity_expires_sooner() -> None:
    """A clinic may make clearances expire sooner than the policy's 90 days."""
    clot = {
        "clot_ever": "yes",
        "clots": [
            {
                "kind": "dvt",
                "site": "left_calf",
                "diagnosed_on": "2026-10-01",
                "treatment": "ongoing",
            }
        ],
    }
    cl = [{"rules": ["CLOT-ACTIVE"], "clinician": "Dr A", "date": "2026-10-20"}]
    obj = intake(clot, clearances=cl)
    assert evaluate(parse_intake(obj)).level is Level.ADAPT
    short = load_settings("clearance_valid_days = 30\n")
    assert evaluate(parse_intake(obj), settings=short).level is Level.CLEARANCE_REQUIRED
