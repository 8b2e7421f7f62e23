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


@pytest.mark.parametrize(
    ("toml", "field", "words"),
    [
        (
            "[rules.CLOT-ACTIVE]\npressure_max = { legs = 3 }\n",
            "rules.CLOT-ACTIVE.pressure_max.legs",
            "CLOT-ACTIVE: pressure_max.legs = 3 is higher than the policy's cap of 2",
        ),
        (
            "[rules.THROMBOPHILIA]\npressure_max = { left_calf = 4 }\n",
            "rules.THROMBOPHILIA.pressure_max.left_calf",
            "left_calf = 4 is higher than the policy's cap of 3",
        ),
        (
            "[rules.MED-ANTIPLATELET]\npressure_max = { all = 4 }\n",
            "rules.MED-ANTIPLATELET.pressure_max.all",
            "all = 4 is higher than the policy's cap of 3",
        ),
        (
            "[rules.CLOT-ACTIVE]\nsession_minutes_max = 60\n",
            "rules.CLOT-ACTIVE.session_minutes_max",
            "session_minutes_max = 60 is longer than the policy's 45 minutes",
        ),
        (
            "[windows]\nclot_active_days = 60\n",
            "windows.clot_active_days",
            "used by CLOT-ACTIVE, CLOT-HISTORY",
        ),
        (
            "[windows]\nsurgery_early_days = 14\n",
            "windows.surgery_early_days",
            "used by SURG-EARLY, SURG-MINOR, SURG-LATE",
        ),
        (
            "[windows]\nplatelets_low_below = 30\n",
            "windows.platelets_low_below",
            "would lower the policy's 50 used by PLATELETS-LOW",
        ),
        (
            '[rules.CLEARANCE-RESTRICTIONS]\nlevel = "clearance_required"\n',
            "rules.CLEARANCE-RESTRICTIONS",
            "comes from a recorded clearance",
        ),
    ],
)
def test_settings_that_raise_a_cap_or_lengthen_are_refused(
    toml: str, field: str, words: str
) -> None:
    """POLICY 1.1 §8.8: a cap above the rule's own, or a session longer than the rule's, is
    refused at load with the rule, the setting, the policy's value and the value given (it was
    silently ignored before); a refused window names the rules that use it."""
    with pytest.raises(SettingsError) as exc:
        load_settings(toml)
    assert any(e.field == field and words in e.message for e in exc.value.errors), exc.value


def test_caps_at_or_below_the_rules_own_are_accepted() -> None:
    """§8.8 refuses only what would be ignored: a cap equal to or below the rule's own, or a
    cap on a region the rule reaches only through an answer (a clot's limb), is accepted."""
    s = load_settings(
        "[rules.CLOT-ACTIVE]\npressure_max = { legs = 2, arms = 1 }\nsession_minutes_max = 45\n"
        "[rules.VARICOSE-MILD]\npressure_max = { legs = 4 }\n"
    )
    assert s.rules["CLOT-ACTIVE"].pressure_max["left_calf"] == 2
    assert s.rules["VARICOSE-MILD"].pressure_max["left_calf"] == 4


def test_deeply_nested_settings_are_an_error_not_a_crash() -> None:
    """A hostile settings file nested 1,000 levels deep gets a settings error naming the
    problem, never a RecursionError."""
    with pytest.raises(SettingsError, match="nested too deeply"):
        load_settings("x = " + "[" * 1000 + "]" * 1000 + "\n")


def test_clearance_valid_days_ends_a_longer_valid_until() -> None:
    """POLICY 1.1 §8.5: a clinic's clearance_valid_days ends a clearance at the earlier of its
    valid_until and date + clearance_valid_days."""
    cl = [
        {
            "rules": ["PLATELETS-LOW"],
            "clinician": "Dr A",
            "date": "2026-10-01",
            "valid_until": "2027-01-01",
        }
    ]
    obj = intake({"platelets_low": "yes"}, clearances=cl)
    assert evaluate(parse_intake(obj)).level is Level.ADAPT
    short = evaluate(parse_intake(obj), settings=load_settings("clearance_valid_days = 30\n"))
    assert short.level is Level.CLEARANCE_REQUIRED
    assert short.expired_clearances[0]["valid_until"] == "2026-10-31"
