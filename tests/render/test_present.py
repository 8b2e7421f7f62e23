"""The one presenter (``clotsafe.render.present``): what every surface says about a Decision.

Each presenter function is tested here once; the CLI, the web pages, the CDS Hooks cards and
the consultation letter only arrange what it returns. Whatever the decision, nothing it returns
shows a question id, an answer path or raw JSON: the therapist reads words.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from tests.helpers import intake
from tests.strategies import intakes

from clotsafe.domain.decision import Decision
from clotsafe.domain.intake import parse_intake
from clotsafe.domain.questions import BY_ID
from clotsafe.domain.types import Level, Position, Urgency
from clotsafe.knowledge import load_toml, sources
from clotsafe.render import markdown, present, text
from clotsafe.rules import evaluate

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"
LEVEL_WORDS = load_toml("levels.toml")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLEARANCE = {"rules": ["CLOT-ACTIVE"], "clinician": "Dr X", "date": "2026-09-01",
             "valid_until": "2026-11-30"}  # fmt: skip
#: question ids that could not be ordinary words ("age", "pregnant" can)
ID_LIKE = sorted((q for q in BY_ID if "_" in q), key=len, reverse=True)
FORBIDDEN = re.compile(
    r"\b(?:" + "|".join(ID_LIKE) + r")\b"  # a question id
    r"|[a-z_]+\[\d+\]"  # an answer path such as clots[0]
    r"|[{}]"  # raw JSON or an unfilled wording field
)


def _stored(**extra: Any) -> dict[str, Any]:
    """A stored decision JSON written by hand, so these tests do not depend on the rules."""
    reason = {"rule": "CLOT-ACTIVE", "level": "clearance_required", "summary": "A recent clot.",
              "sources": ["S48", "S29"], "policy_choice": True, "rule_level": "clearance_required",
              "answers": {"clot_ever": "yes", "clots[0]": {"kind": "dvt", "site": "left_calf",
                                                           "treatment": "ongoing"}},
              "assumptions": ["clots[0].site unsure: counted as legs",
                              "surgery_on missing: counted as within 28 days"]}  # fmt: skip
    obj = {
        "policy_version": "1.1", "level": "clearance_required", "complete": True,
        "pending_questions": [], "reasons": [reason],
        "plan": {"pressure_max": {"left_calf": 0, "left_foot": 0, "right_thigh": 2},
                 "avoid": ["left_foot", "left_calf"], "position": "side_lying_preferred",
                 "gentle_joint_movement": ["left_knee"], "no_joint_movement": [],
                 "session_minutes_max": 45, "rescreen_each_visit": True,
                 "notes": ["Stop if rf_limb_pain appears in the left_calf."]},
        "referral": {"urgency": "before_massage"},
        "scores": {"caprini": {"version": "2005", "lower": 3, "upper": 5, "band": "high",
                               "band_upper": "highest",
                               "items": [{"id": "history_dvt_pe", "points": 3}],
                               "unknown": ["age_41_60"], "not_assessed": []}},
        "screened_on": "2026-11-30", "settings": "default",
    }  # fmt: skip
    return obj | extra


def _decision(**extra: Any) -> Decision:
    return Decision.from_json(_stored(**extra))


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a presenter's result (dataclasses, tuples, lists, dicts)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _everything(d: Decision) -> list[Any]:
    caprini = present.caprini(d)
    return [
        present.badge(d), present.headline(d), present.action(d),
        present.urgency_text(d.referral), present.position_text(d.plan.position),
        present.pending_questions(d), present.incomplete_banner(d), present.reasons(d),
        present.clearance_facts(d), present.plan(d), present.plan_lines(d), caprini,
        caprini.text if caprini else "",
        [r.rule for r in present.rules_to_clear(d)], text.render(d),
    ]  # fmt: skip


def _assert_words_only(d: Decision) -> None:
    for s in _strings(_everything(d)):
        found = FORBIDDEN.search(s)
        assert found is None, f"{found.group(0)!r} shown in {s!r}"


# --- levels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("level", list(Level), ids=[lv.value for lv in Level])
def test_badge_headline_and_action_of_every_level(level: Level) -> None:
    """Each level is shown with its words from levels.toml (POLICY §1), the clinic's emergency
    number filled in, and an icon so that the level is never colour alone."""
    words = LEVEL_WORDS["level"][level.value]
    d = _decision(level=level.value)
    badge = present.badge(d, number="112")
    assert (badge.id, badge.label, badge.icon) == (level.value, words["label"], words["icon"])
    assert present.headline(d) == words["headline"]
    assert present.action(d, "112") == words["therapist"].replace("{number}", "112")
    assert present.level_label(level) == words["label"]


@pytest.mark.parametrize("level", list(Level), ids=[lv.value for lv in Level])
def test_an_incomplete_screening_is_never_a_green_light(level: Level) -> None:
    """POLICY §2: an incomplete screening at standard or adapt is shown as "screening
    incomplete" (badge and headline); a more cautious level keeps its own words."""
    d = _decision(level=level.value, complete=False, pending_questions=["rf_faint"])
    withheld = level <= Level.ADAPT
    assert present.withholds_green_light(level, complete=False) is withheld
    assert not present.withholds_green_light(level, complete=True)
    assert (present.badge(d).id == "incomplete") is withheld
    assert ("incomplete" in present.headline(d).lower()) is withheld


def test_a_client_not_screened_yet_has_its_own_badge() -> None:
    """The client list shows "Not screened" for a client without a screening."""
    assert present.level_badge(None).label == LEVEL_WORDS["not_screened"]["label"]


@pytest.mark.parametrize("urgency", list(Urgency), ids=[u.value for u in Urgency])
def test_urgency_in_words(urgency: Urgency) -> None:
    """Referral urgency (POLICY §7) is said in words, never its JSON value."""
    assert present.urgency_text(urgency) == LEVEL_WORDS["urgency"][urgency.value]
    assert urgency.value not in present.urgency_text(urgency) or urgency.value == "emergency"


@pytest.mark.parametrize("position", list(Position), ids=[p.value for p in Position])
def test_position_in_words(position: Position) -> None:
    """The client's position (POLICY §3 PREGNANCY) is said in words."""
    assert present.position_text(position) == LEVEL_WORDS["position"][position.value]
    assert "_" not in present.position_text(position)


# --- questions and answers ------------------------------------------------------------------


def test_pending_questions_are_the_questions_in_words() -> None:
    """What is still to ask is the question itself (questions.toml), never its id."""
    d = _decision(complete=False, pending_questions=["rf_faint", "rf_unusual_bleeding"])
    asked = present.pending_questions(d)
    assert asked[0].startswith("Have you fainted")
    assert "bleeding gums" in asked[1]
    banner = present.incomplete_banner(d)
    assert banner is not None
    assert banner.title == LEVEL_WORDS["incomplete"]["therapist"]
    assert banner.title.lower().startswith("screening incomplete: ask these before any massage")
    assert banner.questions == tuple(asked)
    assert present.incomplete_banner(_decision()) is None


def test_answers_and_assumptions_in_words() -> None:
    """What a rule read and how unknowns were read (POLICY §2) are said in words: the
    question, the option label, the clot's number, the region's name."""
    (r,) = present.reasons(_decision())
    assert r.answers[0].startswith("Has a doctor or nurse ever told you") and "Yes" in r.answers[0]
    assert r.answers[1].startswith("Clot 1: ")
    assert "A clot in a deep vein (DVT)" in r.answers[1] and "Left calf or shin" in r.answers[1]
    assert r.assumptions[0] == "Clot 1, where (not sure): counted as legs"
    assert "(not answered): counted as within 28 days" in r.assumptions[1]


def test_plain_puts_ids_and_regions_in_words() -> None:
    """Engine wording that names an answer or a region is shown with their names."""
    assert present.plain("2999-01-01 is after screened_on 2026-11-30") == (
        "2999-01-01 is after the screening date 2026-11-30"
    )
    assert "Left calf or shin" in present.plain("avoid left_calf")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"anticoagulant": "no", "anticoagulant_names": ["warfarin"]}, True),
        ({"antiplatelet": "no", "antiplatelet_names": ["aspirin"]}, True),
        ({"anticoagulant": "unsure"}, True),
        ({"antiplatelet": "yes"}, True),
        ({"anticoagulant": "no", "antiplatelet": "no"}, False),
        ({}, False),
        ({"anticoagulant": "maybe"}, True),  # unreadable: ask rather than skip
    ],
)
def test_on_blood_thinners_counts_named_medicines(answers: dict[str, Any], expected: bool) -> None:
    """``named_medicines_count``: a medicine named counts even when the yes/no answer says no;
    unsure counts as yes (POLICY §2). The re-check asks about bleeding when this is true."""
    assert present.on_blood_thinners(answers) is expected


# --- reasons, sources, clearances -----------------------------------------------------------


def test_reasons_carry_full_references() -> None:
    """Each reason names its sources with the full reference of FACTS §12 (the letter)."""
    (r,) = present.reasons(_decision())
    assert r.rule == "CLOT-ACTIVE" and r.badge.id == "clearance_required"
    assert r.sources == "S48, S29"
    assert r.citations == (("S48", sources()["S48"]), ("S29", sources()["S29"]))
    assert "Kearon" in sources()["S48"]
    assert r.action  # the rule's action from rules.toml
    assert present.references(_decision()) == r.citations


def test_clearance_facts_say_who_when_and_why() -> None:
    """POLICY §5, §8.4, §8.6, §8.7: the therapist sees who cleared which rule until when, whose
    restrictions apply, which clearance was not applied and why, and which expired."""
    stored = _stored()
    stored["reasons"][0] |= {"level": "adapt", "cleared_by": {
        "clinician": "Dr A", "date": "2026-06-10", "valid_until": "2026-09-08"}}  # fmt: skip
    stored["reasons"].append({"rule": "CLEARANCE-RESTRICTIONS", "level": "adapt",
                              "summary": "s", "sources": [], "policy_choice": True,
                              "rule_level": "adapt", "clearance": CLEARANCE})  # fmt: skip
    stored["unapplied_clearances"] = [
        {"rule": "CLOT-ACTIVE", "why": "event_after_clearance", "clearance": CLEARANCE,
         "event": "clots[0].diagnosed_on", "event_on": "2026-11-20"},
        {"rule": "SURG-EARLY", "why": "level_raised_by_clinic", "clearance": CLEARANCE},
    ]  # fmt: skip
    stored["expired_clearances"] = [CLEARANCE | {"valid_until": "2026-10-01"}]
    facts = present.clearance_facts(Decision.from_json(stored))
    assert facts == [
        "CLOT-ACTIVE: Cleared by Dr A on 2026-06-10, valid until 2026-09-08.",
        "CLEARANCE-RESTRICTIONS: Restrictions from Dr X (clearance of 2026-09-01 for "
        "CLOT-ACTIVE) apply through 2026-11-30.",
        "Clearance by Dr X on 2026-09-01 was not applied to CLOT-ACTIVE: the clot was diagnosed "
        "after it (2026-11-20).",
        "Clearance by Dr X on 2026-09-01 was not applied to SURG-EARLY: your clinic raised this "
        "rule above clearance required, and a clearance cannot lower it.",
        "Clearance from Dr X (CLOT-ACTIVE) expired on 2026-10-01: ask again.",
    ]
    assert present.clearance_notices(Decision.from_json(stored)) == facts[2:]


def test_rules_to_clear_are_clearance_required_and_never_red_flags() -> None:
    """POLICY §5: the letter asks about rules at clearance_required before any clearance, and
    never about a red flag."""
    stored = _stored()
    stored["reasons"][0]["level"] = "adapt"  # already cleared: still the clinician's rule
    red_flag = {"rule": "RF-DVT", "level": "urgent_referral", "rule_level": "clearance_required"}
    stored["reasons"].append(stored["reasons"][0] | red_flag)
    stored["reasons"].append(stored["reasons"][0] | {"rule": "TRAVEL", "rule_level": "adapt"})
    assert [r.rule for r in present.rules_to_clear(Decision.from_json(stored))] == ["CLOT-ACTIVE"]


# --- plan and scores ------------------------------------------------------------------------


def test_plan_in_words() -> None:
    """The plan names regions as the body map does, lowest cap first, and says when it applies
    only once cleared."""
    p = present.plan(_decision())
    assert p.caps[0] == (0, ("Left calf or shin", "Left foot"))
    assert p.caps[1] == (2, ("Right thigh",))
    assert p.avoid == ("Left calf or shin", "Left foot")  # body order, not stored order
    assert p.position == "Side-lying preferred" and p.gentle == ("Left knee",)
    assert p.minutes == 45 and p.rescreen and p.once_cleared
    assert p.notes == ("Stop if Do you have pain, cramps or a sore spot in one calf, thigh or arm "
                       "that you can't explain? appears in the Left calf or shin.",)  # fmt: skip
    lines = present.plan_lines(_decision())
    assert lines[0] == "do not work: Left calf or shin, Left foot"
    assert "session ≤ 45 min" in lines
    assert present.shows_plan(_decision())
    assert not present.shows_plan(_decision(level="urgent_referral"))


def test_regions_and_groups_have_their_own_labels() -> None:
    """A group is named as questions.toml names it ("Both legs"), not by its id; lists of
    regions stay in the body's order and name regions only (the labels are looked up once)."""
    words = load_toml("questions.toml")["regions"]
    for key, label in words.items():
        assert present.region_label(key) == label
    assert present.region_label("legs") == "Both legs"
    assert present.region_label("left_leg") == "Whole left leg"
    assert present.region_labels(["legs", "left_foot", "left_calf"]) == [
        "Left calf or shin",
        "Left foot",
    ]


def test_reason_summaries_are_the_reasons_summaries() -> None:
    """The worklist's short form is each reason's summary, in the same order."""
    d = _decision()
    assert present.reason_summaries(d) == [r.summary for r in present.reasons(d)]


def test_caprini_in_words() -> None:
    """The Caprini score shows its bounds and items by name (POLICY §4)."""
    c = present.caprini(_decision())
    assert c is not None
    assert c.text == "Caprini 2005: 3–5 (high)"
    assert c.items == (("History of DVT/PE", 3),)
    assert c.unknown and "age_41_60" not in c.unknown
    assert present.caprini(_decision(scores={})) is None


# --- no ids, no paths, no JSON --------------------------------------------------------------


def test_a_hand_written_decision_shows_words_only() -> None:
    """The presenter output for a decision full of ids and paths has none of them."""
    stored = _stored(complete=False, pending_questions=["rf_faint", "anticoagulant_names"])
    stored["reasons"].append({"rule": "CLEARANCE-RESTRICTIONS", "level": "adapt",
                              "summary": "s", "sources": [], "policy_choice": True,
                              "rule_level": "adapt", "clearance": CLEARANCE})  # fmt: skip
    stored["unapplied_clearances"] = [{"rule": "CLOT-ACTIVE", "why": "event_after_clearance",
                                       "clearance": CLEARANCE, "event": "surgery_on",
                                       "event_on": "2026-11-20"}]  # fmt: skip
    _assert_words_only(Decision.from_json(stored))


@pytest.mark.parametrize("path", sorted(VIGNETTES.glob("*.json")), ids=lambda p: p.stem)
def test_every_vignette_shows_words_only(path: Path) -> None:
    """Every golden vignette's decision, as the presenter words it."""
    d = evaluate(parse_intake(json.loads(path.read_text(encoding="utf-8"))["intake"]))
    _assert_words_only(d)


@FAST
@given(intakes())
def test_any_decision_shows_words_only(obj: dict[str, Any]) -> None:
    """Whatever the intake, nothing the presenter returns shows a question id, an answer path
    or a brace of raw JSON."""
    _assert_words_only(evaluate(parse_intake(obj)))


def test_markdown_pending_questions_in_words() -> None:
    """The Markdown (CLI, card detail) lists pending questions in words under the banner."""
    obj = intake()
    del obj["answers"]["rf_faint"]
    out = markdown.render(evaluate(parse_intake(obj)))
    assert out.startswith("> **Screening incomplete")
    assert "Have you fainted" in out and "rf_faint" not in out


def test_a_list_of_clot_records_is_one_line_a_clot() -> None:
    """Answers from an EHR give every clot record: each is its own line, named by number."""
    lines = present.answer_lines({"clots": [{"kind": "dvt"}, {"kind": "pe", "site": "lung"}]})
    assert lines == ["Clot 1: kind: A clot in a deep vein (DVT)",
                     "Clot 2: kind: A clot in the lungs (PE); where: In the lungs"]  # fmt: skip


def test_a_rule_raised_by_the_clinic_says_so() -> None:
    """POLICY §6: when a clinic setting raised a rule, the therapist sees the policy's level."""
    stored = _stored()
    stored["reasons"][0]["default_level"] = "adapt"
    (r,) = present.reasons(Decision.from_json(stored))
    assert r.raised == "Your clinic's settings raise this rule (the policy's level is Adapt)."
    assert present.reasons(_decision())[0].raised == ""
