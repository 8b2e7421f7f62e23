"""Property tests of the policy engine: what must hold for *every* valid intake (POLICY.md).

The intakes come from ``tests/strategies.py``, which is driven by the question bank, so every
new question is covered as soon as it is added. Each test's docstring names the clinical
behaviour it protects.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.strategies import (
    CLEARABLE_RULES,
    LEVEL_URGENCY,
    LEVELS,
    NO_MASSAGE_LEVELS,
    POSITIONS,
    RED_FLAG_RULES,
    RULE_IDS,
    RULE_LEVELS,
    TRI_QUESTIONS,
    URGENCIES,
    VALUE_STRATEGIES,
    intakes,
    is_answered,
    missing_required,
    required_questions,
)

from clotsafe.domain.intake import parse_intake
from clotsafe.domain.questions import QUESTIONS
from clotsafe.domain.regions import REGIONS
from clotsafe.rules import evaluate

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decide(obj: dict[str, Any]) -> dict[str, Any]:
    """Parse and evaluate an intake JSON object; the public decision JSON."""
    result: dict[str, Any] = evaluate(parse_intake(obj)).to_json()
    return result


def with_answer(obj: dict[str, Any], qid: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    if value is None:
        out["answers"].pop(qid, None)
    else:
        out["answers"][qid] = value
    return out


def rank(kind: tuple[str, ...], value: str) -> int:
    return kind.index(value)


def _never_looser(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """How ``after`` is less cautious than ``before`` (empty when it is not)."""
    problems = []
    if rank(LEVELS, after["level"]) < rank(LEVELS, before["level"]):
        problems.append(f"level {before['level']} -> {after['level']}")
    b_plan, a_plan = before["plan"], after["plan"]
    raised = {r: (b_plan["pressure_max"][r], a_plan["pressure_max"][r]) for r in REGIONS
              if a_plan["pressure_max"][r] > b_plan["pressure_max"][r]}  # fmt: skip
    if raised:
        problems.append(f"caps raised {raised}")
    dropped = set(b_plan["avoid"]) - set(a_plan["avoid"])
    if dropped:
        problems.append(f"no longer avoided {sorted(dropped)}")
    if rank(POSITIONS, a_plan["position"]) < rank(POSITIONS, b_plan["position"]):
        problems.append(f"position {b_plan['position']} -> {a_plan['position']}")
    return problems


# --- (a) monotonicity -----------------------------------------------------------------------


@FAST
@given(intakes(), st.data(), st.sampled_from(("yes", "unsure")))
def test_one_more_yes_never_loosens(obj: dict[str, Any], data: st.DataObject, new: str) -> None:
    """Admitting one more risk (a tri question that was "no" or unanswered becomes "yes" or
    "unsure") never lowers the level, never raises a region's cap, never stops avoiding a
    region and never makes the position less restrictive: more risk is never more massage."""
    candidates = [q for q in TRI_QUESTIONS if obj["answers"].get(q) in (None, "no")]
    if not candidates:
        return
    qid = data.draw(st.sampled_from(candidates), label="question")
    before, after = decide(obj), decide(with_answer(obj, qid, new))
    problems = _never_looser(before, after)
    assert not problems, f"{qid}: {obj['answers'].get(qid)!r} -> {new!r}: {problems}"


#: tri follow-up details that docs/policy-readings.md (missing_detail_as_unsure) reads as
#: "unsure" when missing, so for them "missing" and "no" legitimately differ
MISSING_READ_AS_UNSURE = frozenset({"leg_injury_ongoing", "cesarean"})


def _rules_and_plan(decision: dict[str, Any]) -> tuple[Any, ...]:
    return (decision["level"], sorted(r["rule"] for r in decision["reasons"]), decision["plan"],
            decision["referral"])  # fmt: skip


@FAST
@given(intakes(), st.data())
def test_unsure_counts_as_yes(obj: dict[str, Any], data: st.DataObject) -> None:
    """ "Unsure" is the cautious branch for every question (POLICY §2): answering "unsure"
    instead of "yes" gives the same level, the same rules, the same plan and the same referral."""
    candidates = [q for q in TRI_QUESTIONS if obj["answers"].get(q) == "yes"]
    if not candidates:
        return
    qid = data.draw(st.sampled_from(candidates), label="question")
    yes, unsure = decide(obj), decide(with_answer(obj, qid, "unsure"))
    assert _rules_and_plan(unsure) == _rules_and_plan(yes), qid


@FAST
@given(intakes(), st.data())
def test_missing_answer_never_fires_a_rule(obj: dict[str, Any], data: st.DataObject) -> None:
    """A missing answer never fires a rule (POLICY §2): removing a "no" answer changes neither
    the rules that fire nor the plan (it only makes the screening incomplete when required)."""
    candidates = [q for q in TRI_QUESTIONS
                  if obj["answers"].get(q) == "no" and q not in MISSING_READ_AS_UNSURE]  # fmt: skip
    if not candidates:
        return
    qid = data.draw(st.sampled_from(candidates), label="question")
    answered, missing = decide(obj), decide(with_answer(obj, qid, None))
    assert _rules_and_plan(missing) == _rules_and_plan(answered), qid


# --- (b) completeness -----------------------------------------------------------------------


@FAST
@given(intakes(complete=True), st.data())
def test_missing_required_answer_is_pending(obj: dict[str, Any], data: st.DataObject) -> None:
    """A required question left unanswered always makes the screening incomplete and is listed
    in pending_questions, so a skipped question can never read as a green light."""
    required = [q for q in required_questions(obj["answers"]) if is_answered(obj["answers"], q)]
    qid = data.draw(st.sampled_from(required), label="removed")
    got = decide(with_answer(obj, qid, None))
    assert got["complete"] is False
    assert qid in got["pending_questions"]


@FAST
@given(intakes(complete=True))
def test_complete_intake_is_complete(obj: dict[str, Any]) -> None:
    """When every question INTAKE.md requires is answered the screening is complete and nothing
    is pending (a complete screening is never held back by questions it does not need)."""
    got = decide(obj)
    assert got["complete"] is True
    assert got["pending_questions"] == []


@FAST
@given(intakes())
def test_pending_questions_are_exactly_the_missing_required(obj: dict[str, Any]) -> None:
    """pending_questions lists exactly the required questions that are unanswered, in INTAKE
    order, and complete is true only when that list is empty."""
    answers = obj["answers"]
    if answers.get("clot_ever") == "unsure" and not answers.get("clots"):
        return  # INTAKE.md asks for records when clot_ever is "yes"; "unsure" is not pinned
    got = decide(obj)
    assert got["pending_questions"] == missing_required(answers)
    assert got["complete"] is (not got["pending_questions"])


# --- (c) determinism ------------------------------------------------------------------------


@FAST
@given(intakes())
def test_same_intake_same_decision(obj: dict[str, Any]) -> None:
    """The same intake always gives the same decision: evaluated twice, after a JSON round trip
    of the input, after the parsed intake's own JSON round trip, and with the evaluation date
    given explicitly as the screening date (no hidden clock, no hidden state)."""
    first = decide(obj)
    assert decide(obj) == first
    assert decide(json.loads(json.dumps(obj))) == first
    parsed = parse_intake(obj)
    assert evaluate(parse_intake(parsed.to_json())).to_json() == first
    assert evaluate(parsed, at=parsed.screened_on).to_json() == first
    assert json.loads(json.dumps(first)) == first


# --- (d) shape of every decision --------------------------------------------------------------


@FAST
@given(intakes())
def test_decision_is_well_formed(obj: dict[str, Any]) -> None:
    """Every decision shows a cap for all 21 regions (0–5), every avoided region has cap 0, and
    every reason has a known rule id, its sources and whether it is a policy choice, so the
    body map and the explanation are never partial."""
    got = decide(obj)
    assert got["policy_version"] == "1.1"
    assert got["level"] in LEVELS
    plan = got["plan"]
    assert list(plan["pressure_max"]) == list(REGIONS)
    assert all(isinstance(c, int) and 0 <= c <= 5 for c in plan["pressure_max"].values())
    assert plan["avoid"] == [r for r in REGIONS if r in set(plan["avoid"])]
    assert all(plan["pressure_max"][r] == 0 for r in plan["avoid"])
    assert plan["position"] in POSITIONS
    assert got["referral"]["urgency"] in URGENCIES
    for reason in got["reasons"]:
        assert reason["rule"] in RULE_IDS
        assert reason["sources"] and all(isinstance(s, str) and s for s in reason["sources"])
        assert isinstance(reason["policy_choice"], bool)
        assert reason["level"] in LEVELS and reason["rule_level"] in LEVELS
        assert reason["summary"]


@FAST
@given(intakes())
def test_level_and_referral_follow_the_reasons(obj: dict[str, Any]) -> None:
    """The level is the most cautious level of all rules that fire (standard when none does),
    reasons are listed most cautious first (then in POLICY order), the referral is at least as
    urgent as the level requires, and the red-flag questions are asked again next visit
    whenever any rule fires."""
    got = decide(obj)
    levels = [r["level"] for r in got["reasons"]]
    top = max(levels, key=LEVELS.index, default="standard")
    assert got["level"] == top
    assert [LEVELS.index(lv) for lv in levels] == sorted(
        (LEVELS.index(lv) for lv in levels), reverse=True
    )
    order = [(-LEVELS.index(r["level"]), RULE_IDS.index(r["rule"])) for r in got["reasons"]]
    assert order == sorted(order), "reasons: most cautious level first, then POLICY order"
    urgency = got["referral"]["urgency"]
    assert URGENCIES.index(urgency) >= URGENCIES.index(LEVEL_URGENCY[got["level"]])
    if got["level"] in ("standard", "adapt"):
        fired = {r["rule"] for r in got["reasons"]}
        assert urgency == ("suggested" if "CAPRINI-HIGHEST" in fired else "none")
    else:
        assert urgency == LEVEL_URGENCY[got["level"]]
    assert got["plan"]["rescreen_each_visit"] is bool(got["reasons"])


@FAST
@given(intakes())
def test_rule_levels_and_exclusions(obj: dict[str, Any]) -> None:
    """Each rule fires at most once (CLEARANCE-RESTRICTIONS once per valid clearance with
    restrictions, POLICY §8.6), at its POLICY level unless a valid clearance made a
    clearance_required rule adapt; red flags are never cleared; MED-ANTIPLATELET is not listed
    when MED-ANTICOAG fires (the stronger bleeding caution already covers it)."""
    got = decide(obj)
    fired = [r["rule"] for r in got["reasons"] if r["rule"] != "CLEARANCE-RESTRICTIONS"]
    assert len(fired) == len(set(fired))
    assert not {"MED-ANTICOAG", "MED-ANTIPLATELET"} <= set(fired)
    for reason in got["reasons"]:
        assert reason["rule_level"] == RULE_LEVELS[reason["rule"]]
        if reason["rule"] in RED_FLAG_RULES:
            assert reason["level"] == reason["rule_level"] and "cleared_by" not in reason
        elif reason.get("cleared_by") is not None:
            assert (reason["rule_level"], reason["level"]) == ("clearance_required", "adapt")
        else:
            assert reason["level"] == reason["rule_level"]


@FAST
@given(intakes())
def test_plan_features_come_from_their_rules(obj: dict[str, Any]) -> None:
    """Each part of the plan is there only because the rule that gives it fired: a position
    only for PREGNANCY, no joint mobilisation only for CLOT-ACTIVE, gentle joint movement only
    for CLOT-HISTORY, the 45-minute session exactly when CLOT-ACTIVE fires (POLICY §3); and
    with no rule and no clearance the session is standard (every cap 5, nothing avoided)."""
    got = decide(obj)
    plan, fired = got["plan"], {r["rule"] for r in got["reasons"]}
    assert plan["position"] == "any" or "PREGNANCY" in fired
    assert not plan["no_joint_movement"] or "CLOT-ACTIVE" in fired
    assert not plan["gentle_joint_movement"] or "CLOT-HISTORY" in fired
    if got["level"] not in NO_MASSAGE_LEVELS:
        assert plan["session_minutes_max"] == (45 if "CLOT-ACTIVE" in fired else None)
    if not fired and not obj.get("clearances"):
        assert got["level"] == "standard"
        assert set(plan["pressure_max"].values()) == {5} and plan["avoid"] == []
        assert plan["position"] == "any" and plan["rescreen_each_visit"] is False


# --- (e) no massage means no pressure -------------------------------------------------------


@FAST
@given(intakes())
def test_no_massage_levels_allow_no_pressure(obj: dict[str, Any]) -> None:
    """An emergency or urgent-referral decision never allows pressure anywhere: every region is
    capped at 0 and avoided, so no body map can suggest massaging a client who must be sent to
    care."""
    got = decide(obj)
    if got["level"] not in NO_MASSAGE_LEVELS:
        return
    assert set(got["plan"]["pressure_max"].values()) == {0}
    assert got["plan"]["avoid"] == list(REGIONS)


# --- clearances (POLICY §5) ------------------------------------------------------------------


#: found by Hypothesis in CI: the restrictions of a clearance whose rule does not fire
RESTRICTED_BUT_NOT_FIRED = {
    "screened_on": "2020-01-01",
    "answers": {},
    "clearances": [
        {"rules": ["CLOT-ACTIVE"], "clinician": "Dr Generated", "date": "2020-01-01",
         "restrictions": {"avoid": ["head"]}},
    ],
}  # fmt: skip


@FAST
@given(intakes())
@example(RESTRICTED_BUT_NOT_FIRED)
def test_clearance_never_loosens_the_plan(obj: dict[str, Any]) -> None:
    """A clinician's clearance may let a clearance_required client be massaged (level adapt),
    but it never raises a cap or un-avoids a region of the once-cleared plan, and never lowers
    any level other than clearance_required. Its restrictions apply whether or not its rules
    fire, so a standard client with a valid restricted clearance is adapt (POLICY 1.1 §8.6)."""
    without = {k: v for k, v in obj.items() if k != "clearances"}
    base, cleared = decide(without), decide(obj)
    for r in REGIONS:
        assert cleared["plan"]["pressure_max"][r] <= base["plan"]["pressure_max"][r], r
    assert set(base["plan"]["avoid"]) <= set(cleared["plan"]["avoid"])
    rules = {reason["rule"] for reason in cleared["reasons"]}
    if base["level"] == "standard" and "CLEARANCE-RESTRICTIONS" in rules:
        assert cleared["level"] == "adapt"
    elif base["level"] != "clearance_required":
        assert cleared["level"] == base["level"]
    else:
        assert cleared["level"] in ("adapt", "clearance_required")


@FAST
@given(intakes(with_clearances=False), st.lists(st.sampled_from(CLEARABLE_RULES), min_size=1,
       max_size=4, unique=True), st.integers(1, 300))  # fmt: skip
def test_expired_clearance_changes_nothing(obj: dict[str, Any], rules: list[str],
                                           age_days: int) -> None:  # fmt: skip
    """An expired clearance (valid_until before the screening day, or older than the default
    90 days) covers nothing and its restrictions no longer apply: the therapist must ask again."""
    on = date.fromisoformat(obj["screened_on"])
    dated = on - timedelta(days=max(age_days, 91))
    explicit = {"rules": rules, "clinician": "Dr Old", "date": dated.isoformat(),
                "valid_until": (on - timedelta(days=1)).isoformat(),
                "restrictions": {"pressure_max": {"head": 0}, "avoid": ["neck"]}}  # fmt: skip
    default = {"rules": rules, "clinician": "Dr Old", "date": dated.isoformat()}
    base = decide(obj)
    for clearance in (explicit, default):
        got = decide({**obj, "clearances": [clearance]})
        assert got["level"] == base["level"]
        assert got["plan"] == base["plan"]
        assert [r["rule"] for r in got["reasons"]] == [r["rule"] for r in base["reasons"]]


# --- the strategies themselves ----------------------------------------------------------------


@FAST
@given(intakes())
def test_generated_intakes_are_valid(obj: dict[str, Any]) -> None:
    """The property tests only mean something if every generated intake is one a real form
    could send: it parses without error and round-trips through its own JSON."""
    parsed = parse_intake(obj)
    assert parse_intake(parsed.to_json()).to_json() == parsed.to_json()


def test_every_question_type_has_a_strategy() -> None:
    """Every question of the bank can be generated, so a new question is exercised by every
    property as soon as it is added (a new answer type fails here until it gets a strategy)."""
    missing = sorted({q.type for q in QUESTIONS} - set(VALUE_STRATEGIES))
    assert not missing, f"add these answer types to VALUE_STRATEGIES: {missing}"


# --- POLICY 1.1 §8.4–§8.7 --------------------------------------------------------------------

#: the dated answers that trigger each rule a clearance may cover (POLICY §8.4)
_EVENT_DATES = {
    "SURG-EARLY": ("surgery_on",),
    "SURG-LATE": ("surgery_on",),
    "SURG-MINOR": ("surgery_on",),
    "LEG-INJURY-EARLY": ("leg_injury_on",),
    "LEG-INJURY-LATE": ("leg_injury_on",),
    "IVC-FILTER-RECENT": ("ivc_filter_placed_on",),
    "IVC-FILTER": ("ivc_filter_placed_on",),
}


def _event_dates(reason: dict[str, Any]) -> list[str | None]:
    """The dates of the events that made a rule fire, read from its trace (None: undated)."""
    if reason["rule"] in ("CLOT-ACTIVE", "CLOT-HISTORY"):
        return [
            c.get("diagnosed_on") for k, c in reason["answers"].items() if k.startswith("clots[")
        ]
    return [reason["answers"].get(q) for q in _EVENT_DATES.get(reason["rule"], ())]


@FAST
@given(intakes())
def test_a_clearance_covers_only_what_the_clinician_was_told(obj: dict[str, Any]) -> None:
    """§8.4: a rule lowered by a clearance never had a triggering event dated after the
    clearance (or undated); a valid clearance that names a firing clearance_required rule and
    did not lower it is listed in unapplied_clearances with the reason, so the therapist sees
    why the client still needs clearance."""
    got = decide(obj)
    unapplied = {(u["rule"], u["clearance"]["date"]) for u in got.get("unapplied_clearances", [])}
    for reason in got["reasons"]:
        cleared = reason.get("cleared_by")
        if cleared is not None:
            for d in _event_dates(reason):
                assert d is not None and d <= cleared["date"], (reason["rule"], d, cleared)
        elif reason["rule_level"] == "clearance_required":
            for c in obj.get("clearances", []):
                if reason["rule"] in c["rules"] and c["date"] <= got["screened_on"]:
                    expired = any(e["date"] == c["date"] for e in got.get("expired_clearances", []))
                    assert expired or (reason["rule"], c["date"]) in unapplied, (reason, c)


@FAST
@given(intakes())
def test_valid_restrictions_always_show_their_reason(obj: dict[str, Any]) -> None:
    """§8.6: every valid clearance with restrictions adds one CLEARANCE-RESTRICTIONS reason
    naming its clinician, date and last valid day, so no restriction on the body map is
    unexplained; a decision with such a reason is never standard."""
    got = decide(obj)
    expired = {(e["clinician"], e["date"]) for e in got.get("expired_clearances", [])}
    with_restrictions = [
        c
        for c in obj.get("clearances", [])
        if (c["clinician"], c["date"]) not in expired
        and any(c.get("restrictions", {}).get(k) for k in ("pressure_max", "avoid", "notes"))
    ]
    reasons = [r for r in got["reasons"] if r["rule"] == "CLEARANCE-RESTRICTIONS"]
    assert len(reasons) == len(with_restrictions)
    for r in reasons:
        assert {"clinician", "date", "valid_until", "rules"} <= set(r["clearance"])
    if reasons:
        assert got["level"] != "standard"
