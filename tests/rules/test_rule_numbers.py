"""Every rule's numbers live in one place (knowledge/rules.toml), and every message is written
with the numbers in force: a clinic with longer windows never reads the policy's defaults in a
reason, a trace or an assumption (a wrong number in an explanation misleads the therapist)."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from tests.strategies import intakes

from clotsafe.domain.intake import parse_intake
from clotsafe.knowledge import rules as rule_info
from clotsafe.knowledge import windows as window_info
from clotsafe.rules import builtin, evaluate
from clotsafe.rules.settings import Settings, Windows, load_settings

BUILTIN = Path(__file__).resolve().parents[2] / "src" / "clotsafe" / "rules" / "builtin.py"
VIGNETTES = sorted((Path(__file__).resolve().parents[1] / "vignettes").glob("*.json"))

#: numbers a rule text may write by hand: question definitions, not settings (INTAKE.md)
QUESTION_NUMBERS = ("4 hours", "4 weeks", "6 months", "Caprini 2005", "×10⁹/L")
#: a hand-written number that looks like a window, cap or threshold
NUMBER = re.compile(r"≤ ?\d|\d+ ?(?:days?|weeks?|-day|-minute)|week \d|\d+–\d+|score \d|below \d")


def _texts(rid: str) -> list[str]:
    info = rule_info()[rid]
    return [info.fires_when, info.summary, info.plan, info.policy_note]


def test_rule_texts_write_no_number_by_hand() -> None:
    """Windows, thresholds, caps and session lengths appear in rule texts only as
    placeholders filled from rules.toml's numbers, so prose and evaluation cannot disagree."""
    for rid in rule_info():
        for text in _texts(rid):
            bare = re.sub(r"\{[a-z_]+\}", "", text)
            for allowed in QUESTION_NUMBERS:
                bare = bare.replace(allowed, "")
            assert not NUMBER.search(bare), (rid, text)


def test_every_cap_key_is_used_and_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    """builtin.py reads each rule's caps by key from rules.toml: over every vignette every key
    it reads exists, every key rules.toml declares is read (no number that evaluation ignores),
    and builtin.py writes no cap by hand."""
    read: set[tuple[str, str]] = set()
    real = builtin._cap

    def recording(rule_id: str, key: str) -> int:
        read.add((rule_id, key))
        return real(rule_id, key)

    monkeypatch.setattr(builtin, "_cap", recording)
    for path in VIGNETTES:
        evaluate(parse_intake(json.loads(path.read_text())["intake"]))
    declared = {(rid, k) for rid, info in rule_info().items() for k in info.caps}
    assert read == declared
    assert not re.search(r"\.cap\([^)]*, \d\)", BUILTIN.read_text()), "a cap written by hand"


def test_windows_come_from_rules_toml() -> None:
    """The Windows defaults are rules.toml's [window.*] values, one field per window."""
    assert [f.name for f in fields(Windows)] == list(window_info())
    for name, w in window_info().items():
        assert getattr(Windows(), name) == w.value
        assert w.rules and all(r in rule_info() for r in w.rules)


#: every window moved to a distinctive stricter value no default shares
ODD = Windows(
    clot_active_days=97,
    ivc_filter_recent_days=101,
    surgery_early_days=31,
    surgery_late_days=89,
    leg_injury_early_days=33,
    leg_injury_late_days=87,
    postpartum_early_days=45,
    postpartum_late_days=88,
    pregnancy_side_lying_week=11,
    pregnancy_semi_reclining_week=19,
    platelets_low_below=57,
    caprini_high_min=2,
    caprini_highest_min=4,
)
ODD_SETTINGS = load_settings(
    "[windows]\n" + "".join(f"{f.name} = {getattr(ODD, f.name)}\n" for f in fields(Windows))
)
IN_FORCE = {str(int(getattr(ODD, f.name))) for f in fields(Windows)} | {
    str(int(getattr(ODD, f.name)) + 1) for f in fields(Windows)
}
WINDOW_NUMBER = re.compile(r"(\d+)(?= ?(?:days?|weeks?|-day| ×))|(?<=week )(\d+)|(\d+)(?=–)")


def _window_numbers(message: str) -> set[str]:
    """Window-like numbers in a message, leaving out POLICY's own values named as such."""
    message = re.sub(r"POLICY's [^;,.)]*", "", message)
    return {a or b or c for a, b, c in WINDOW_NUMBER.findall(message)}


def _check(decision: dict[str, Any]) -> None:
    for reason in decision["reasons"]:
        messages = [reason["summary"], reason.get("policy_note", ""), *reason["assumptions"]]
        for m in messages:
            assert _window_numbers(m) <= IN_FORCE | {"4", "6"}, (reason["rule"], m)


def test_settings_round_trip() -> None:
    assert ODD_SETTINGS.windows == ODD and isinstance(ODD_SETTINGS, Settings)


def test_messages_use_the_windows_in_force_on_every_vignette() -> None:
    """With every window changed, no reason, assumption or note of any golden vignette shows
    a default window (e.g. "counted as within 90 days" for a clinic using 101)."""
    for path in VIGNETTES:
        obj = json.loads(path.read_text())["intake"]
        _check(evaluate(parse_intake(obj), settings=ODD_SETTINGS).to_json())


@settings(max_examples=300, deadline=None)
@given(intakes())
def test_messages_use_the_windows_in_force(obj: dict[str, Any]) -> None:
    """The same on random intakes rich in unsure and missing answers."""
    _check(evaluate(parse_intake(obj), settings=ODD_SETTINGS).to_json())


def test_a_missing_ivc_date_names_the_clinic_window() -> None:
    """The example from the review: a clinic with ivc_filter_recent_days = 180 reads
    "counted as within 180 days", not 90."""
    s = load_settings("[windows]\nivc_filter_recent_days = 180\n")
    obj = {"screened_on": "2026-11-30", "answers": {"ivc_filter": "yes"}}
    reason = evaluate(parse_intake(obj), settings=s).to_json()["reasons"][0]
    assert reason["rule"] == "IVC-FILTER-RECENT"
    assert reason["assumptions"] == ["ivc_filter_placed_on missing: counted as within 180 days"]
    assert "180 days" in reason["summary"] and "90" not in reason["summary"]
