"""The compiled rule evaluator decides exactly what the reference engine decides.

``FastEvaluator(settings).decide(intake, at)`` must equal ``evaluate(intake, at=at,
settings=settings).to_json()`` and ``decide_json`` must equal its ``orjson.dumps``, byte for
byte, on every golden vignette and on 20,000 random intakes rich in "yes"/"unsure" answers,
contradictory clot records, dates at the windows' edges and clearances, under POLICY's own
settings, a clinic that changed every window and a clinic that raised levels and added caps:
a batch screened on the fast path must tell the therapist what the reference tells them.
What it does not cover (another rule registry, reference sources changed since it was
written) it hands back to the reference, and nothing else falls back. Every check runs on the
Python evaluator and, when ``benchmarks/build_compiled.py`` built it from the current sources,
on the mypyc-compiled one.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from tests.rules.test_rule_numbers import ODD_SETTINGS
from tests.rules.test_vignettes import settings_of
from tests.strategies import CLEARABLE_RULES, intakes

from clotsafe.domain.fastintake import FastParser
from clotsafe.domain.intake import Answers, Intake, parse_intake, parse_intake_json
from clotsafe.domain.questions import CLOT_KINDS, CLOT_TREATMENTS, QUESTIONS, Question
from clotsafe.domain.regions import GROUPS, REGIONS
from clotsafe.knowledge import clearable_rules
from clotsafe.rules import DEFAULT_SETTINGS, Settings, evaluate, fastrules, load_settings
from clotsafe.rules.builtin import register
from clotsafe.rules.fastbatch import evaluator_class, is_native
from clotsafe.rules.registry import RuleRegistry, builtin_rules
from clotsafe.rules.settings import Windows

#: the evaluators under test: the Python source, and its mypyc build when there is a current one
IMPLS: dict[str, type[fastrules.FastEvaluator]] = {"python": fastrules.FastEvaluator}
if is_native(evaluator_class()):
    IMPLS["mypyc"] = evaluator_class()

VIGNETTES = sorted((Path(__file__).resolve().parents[1] / "vignettes").glob("*.json"))
KNOWN = clearable_rules()

#: a clinic that raised levels (to clearance_required, and above it: POLICY §8.7), added caps,
#: avoided regions and shorter sessions, and shortened clearances (§8.5)
RULE_SETTINGS_TOML = """
name = "Raised clinic"
clearance_valid_days = 30
[rules.CLOT-ACTIVE]
level = "urgent_referral"
[rules.CLOT-HISTORY]
level = "clearance_required"
pressure_max = { legs = 1, all = 3 }
avoid = ["abdomen", "left_hand"]
session_minutes_max = 30
[rules.IVC-FILTER]
level = "clearance_required"
[rules.SURG-EARLY]
pressure_max = { legs = 1, head = 0 }
session_minutes_max = 40
[rules.SURG-LATE]
level = "clearance_required"
[rules.TRAVEL]
level = "clearance_required"
pressure_max = { all = 2, right_leg = 1 }
[rules.VARICOSE-MILD]
avoid = ["left_calf"]
[rules.THROMBOPHILIA]
level = "emergency"
[rules.PLATELETS-LOW]
session_minutes_max = 20
[rules.CAPRINI-HIGH]
level = "clearance_required"
[rules.LEG-INJURY-EARLY]
level = "urgent_referral"
"""
RULE_SETTINGS = load_settings(RULE_SETTINGS_TOML, "raised")
#: every window changed and the rule settings above, together
ODD_WINDOWS = "".join(
    f"{f.name} = {getattr(ODD_SETTINGS.windows, f.name)}\n" for f in fields(Windows)
)
BOTH_SETTINGS = load_settings(
    RULE_SETTINGS_TOML.replace("Raised clinic", "Odd and raised") + "[windows]\n" + ODD_WINDOWS,
    "both",
)
ALL_SETTINGS = {
    "default": DEFAULT_SETTINGS,
    "odd_windows": ODD_SETTINGS,
    "raised_rules": RULE_SETTINGS,
    "odd_and_raised": BOTH_SETTINGS,
}


def reference(intake: Intake, settings: Settings, at: date | None = None) -> dict[str, Any]:
    """The definition of the decision."""
    return evaluate(intake, at=at, settings=settings).to_json()


def assert_same(fast: fastrules.FastEvaluator, intake: Intake, want: dict[str, Any],
                at: date | None = None) -> None:  # fmt: skip
    got = fast.decide(intake, at)
    assert got == want
    assert orjson.dumps(got) == orjson.dumps(want)  # key order and int/float too
    assert fast.decide_json(intake, at) == orjson.dumps(want)


def test_the_evaluator_mirrors_the_current_reference() -> None:
    """FastEvaluator was written against today's engine.py, builtin.py, registry.py, plan.py,
    rules.toml and the decision's to_json; when any of them changes it switches itself off
    (every intake goes to the reference) and this test says so."""
    assert fastrules.UP_TO_DATE, (
        "the reference rules changed (engine.py, builtin.py, registry.py, plan.py, rules.toml "
        "or Decision/Reason/Plan.to_json, ScoreResult.summary): bring rules/fastrules.py up to "
        "date with them, then set MIRRORED = fastrules.reference_source_hash() "
        f"({fastrules.reference_source_hash()})"
    )


def test_the_rule_settings_load_as_written() -> None:
    """The test clinics really change what they say (a refused setting would test nothing)."""
    assert RULE_SETTINGS.clearance_valid_days == 30 and len(RULE_SETTINGS.rules) == 11
    assert BOTH_SETTINGS.windows == ODD_SETTINGS.windows
    assert BOTH_SETTINGS.rules == RULE_SETTINGS.rules


# --- golden vignettes -----------------------------------------------------------------------


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_every_vignette_is_identical(path: Path) -> None:
    """Each golden vignette, under its own settings and under every test clinic."""
    data = json.loads(path.read_text(encoding="utf-8"))
    intake = parse_intake(data["intake"])
    for settings in (settings_of(data), *ALL_SETTINGS.values()):
        want = reference(intake, settings)
        for impl in IMPLS.values():
            fast = impl(settings)
            assert_same(fast, intake, want)
            assert (fast.fast, fast.fallback) == (2, 0)


# --- 20,000 random intakes ------------------------------------------------------------------

ON = date(2026, 11, 25)
REGION_NAMES = (*REGIONS, *GROUPS)
SITES = (*REGION_NAMES, "lung", "lung", "other", "unsure", None)
#: days back at every window's edge, POLICY's and the odd clinic's (±1)
EDGES = sorted({e + k for e in (0, 13, 22, 28, 31, 33, 42, 45, 84, 87, 88, 89, 90, 97, 101)
                for k in (-1, 0, 1) if e + k >= 0})  # fmt: skip
#: rules whose firings carry dated events, often named in clearances (POLICY §8.4)
EVENT_RULES = ("CLOT-ACTIVE", "CLOT-HISTORY", "IVC-FILTER-RECENT", "IVC-FILTER", "SURG-EARLY",
               "SURG-LATE", "LEG-INJURY-EARLY", "LEG-INJURY-LATE")  # fmt: skip


def _back(rng: random.Random) -> int:
    return rng.choice(EDGES) if rng.random() < 0.6 else rng.randint(0, 900)


def _day(rng: random.Random) -> str:
    return (ON - timedelta(days=_back(rng))).isoformat()


def _tri(rng: random.Random, positive: float) -> str | None:
    r = rng.random()
    if r < 0.1:
        return None
    return "no" if r >= 0.1 + positive else "yes" if rng.random() < 0.65 else "unsure"


NUMBERS: dict[str, tuple[float, ...]] = {
    "pregnancy_weeks": (0, 10, 11, 12, 13, 14, 18, 19, 20, 21, 22, 23, 40),
    "age": (5, 11, 12, 13, 40, 41, 55, 56, 60, 61, 75, 76),
    "platelet_count": (10, 49, 49.9, 50, 50.0, 56.5, 57, 57.0, 58, 150),
    "bmi": (20, 25, 25.0, 25.1, 30, 45.5),
}


def _value(q: Question, rng: random.Random, positive: float) -> Any:
    if q.type == "tri":
        return _tri(rng, positive)
    if q.type == "date":
        return _day(rng)
    if q.type in ("int", "number"):
        if q.id in NUMBERS and rng.random() < 0.7:
            return rng.choice(NUMBERS[q.id])
        x = rng.uniform(q.minimum or 0, min(q.maximum or 200, 200))
        return int(x) if q.type == "int" or rng.random() < 0.5 else round(x, 1)
    if q.type == "enum":
        return rng.choice((*q.values, *q.values[:1]))
    if q.type == "regions":
        return rng.sample(REGION_NAMES, rng.choice((0, 1, 1, 2, 3)))
    if q.type == "names":
        names = rng.sample(q.values, rng.choice((0, 1, 1, 2, 3)))
        return names + names[:1] if names and rng.random() < 0.1 else names  # a repeat
    return [_clot(rng) for _ in range(rng.choice((0, 1, 1, 2, 3)))]


def _clot(rng: random.Random) -> dict[str, Any]:
    c: dict[str, Any] = {"kind": rng.choice(CLOT_KINDS)}
    if rng.random() < 0.9:
        c["site"] = rng.choice(SITES)  # None: an explicit null (POLICY §8.2)
    if rng.random() < 0.85:
        c["diagnosed_on"] = _day(rng) if rng.random() < 0.9 else None
    if rng.random() < 0.85:
        c["treatment"] = rng.choice((*CLOT_TREATMENTS, None))
    return c


def _event_days(answers: dict[str, Any]) -> list[str]:
    days = [answers[q] for q in ("ivc_filter_placed_on", "surgery_on", "leg_injury_on")
            if q in answers]  # fmt: skip
    days += [c["diagnosed_on"] for c in answers.get("clots", ()) if c.get("diagnosed_on")]
    return days


def _clearance(rng: random.Random, answers: dict[str, Any]) -> dict[str, Any]:
    """A clearance often dated on, just before or just after a triggering event (§8.4)."""
    events = _event_days(answers)
    if events and rng.random() < 0.6:
        on = date.fromisoformat(rng.choice(events)) + timedelta(days=rng.choice((-1, 0, 1, 5)))
        on = min(on, ON)
    else:
        on = ON - timedelta(days=rng.choice((0, 1, 29, 30, 31, 89, 90, 91, 150)))
    pool = EVENT_RULES if rng.random() < 0.7 else CLEARABLE_RULES
    c: dict[str, Any] = {
        "rules": rng.sample(pool, rng.randint(1, 3)),
        "clinician": rng.choice(("Dr A. Example", "Dr B. Other (GP): vascular")),
        "date": on.isoformat(),
    }
    if rng.random() < 0.4:
        c["valid_until"] = (
            on + timedelta(days=rng.choice((0, 1, 10, 29, 30, 31, 120)))
        ).isoformat()
    if rng.random() < 0.6:
        r: dict[str, Any] = {}
        if rng.random() < 0.6:
            r["pressure_max"] = {n: rng.randint(0, 5) for n in rng.sample(REGION_NAMES, 2)}
        if rng.random() < 0.5:
            r["avoid"] = rng.sample(REGION_NAMES, rng.randint(0, 2))
        if rng.random() < 0.5:
            r["notes"] = rng.choice(("", "No deep work.", "Gentle only: no calves"))
        c["restrictions"] = r
    return c


def random_intake(rng: random.Random) -> dict[str, Any]:
    """Rich in "yes"/"unsure" (45 % of tri answers on average), now and then a quiet one."""
    positive = rng.choice((0.02, 0.3, 0.5, 0.7))
    answers: dict[str, Any] = {}
    for q in QUESTIONS:
        if q.type != "tri" and rng.random() < 0.3:
            continue
        v = _value(q, rng, positive)
        if v is not None:
            answers[q.id] = v
    obj: dict[str, Any] = {"screened_on": ON.isoformat(), "answers": answers}
    if rng.random() < 0.4:
        obj["clearances"] = [_clearance(rng, answers) for _ in range(rng.randint(1, 3))]
    return obj


#: which settings each random intake is screened under (intake n: ROTATION[n % 5])
ROTATION = ("default", "odd_windows", "default", "raised_rules", "odd_and_raised")


@dataclass
class Run:
    """What screening the random sample on both paths found."""

    intakes: dict[str, int] = field(default_factory=dict)
    differ: dict[str, list[bytes]] = field(default_factory=dict)
    fast: int = 0
    fallback: int = 0
    seen: set[str] = field(default_factory=set)


#: random intakes compared here (tests/rules/test_fastpath.py runs 20,000 through the whole
#: batch line; this sample adds the dict form and four clinics at half the suite's time)
N_RANDOM = 10_000


@cache
def random_run(n: int = N_RANDOM, seed: int = 20261130) -> Run:
    """Screen ``n`` fixed-seed random intakes with the reference and each fast evaluator (as a
    dict and as bytes; from the reference parser's intake, from the fast parser's, and from
    the answers dict the batch hands over)."""
    rng = random.Random(seed)
    evaluators = [{k: impl(s) for k, s in ALL_SETTINGS.items()} for impl in IMPLS.values()]
    parser = FastParser(KNOWN)
    run = Run()
    for i in range(n):
        line = orjson.dumps(random_intake(rng))
        at = None if rng.random() < 0.8 else ON + timedelta(days=rng.randint(-3, 60))
        name = ROTATION[i % len(ROTATION)]
        intake = parse_intake_json(line, known_rules=KNOWN)
        want = reference(intake, ALL_SETTINGS[name], at)
        quick = parser.try_fast(line)
        parts = parser.try_answers(line)
        for by_name in evaluators:
            fast = by_name[name]
            got = [fast.decide(intake, at), fast.decide_json(intake, at)]
            if quick is not None and parts is not None:
                got += [fast.decide_json(quick, at), fast.decide_answers_json(*parts, at)]
            if got[0] != want or any(b != orjson.dumps(want) for b in got[1:]):
                run.differ.setdefault(name, []).append(line)
        run.intakes[name] = run.intakes.get(name, 0) + 1
        _record(run.seen, want)
    run.fast = sum(f.fast for by_name in evaluators for f in by_name.values())
    run.fallback = sum(f.fallback for by_name in evaluators for f in by_name.values())
    return run


def _record(seen: set[str], d: dict[str, Any]) -> None:
    seen.update(r["rule"] for r in d["reasons"])
    seen.update("cleared" for r in d["reasons"] if "cleared_by" in r)
    seen.update("raised" for r in d["reasons"] if "default_level" in r)
    seen.update(u["why"] for u in d.get("unapplied_clearances", ()))
    seen.update("expired" for _ in d.get("expired_clearances", ())[:1])
    seen.update((d["level"], d["plan"]["position"], d["referral"]["urgency"]))
    seen.update("incomplete" for _ in d["pending_questions"][:1])


@pytest.mark.parametrize("name", ALL_SETTINGS)
def test_random_intakes_are_identical(name: str) -> None:
    """10,000 random intakes (4,000 under POLICY's settings, 2,000 under each test clinic):
    every decision equal to the reference's, as a dict and as bytes."""
    run = random_run()
    assert run.intakes[name] >= N_RANDOM // 5
    bad = run.differ.get(name, [])
    assert not bad, f"{len(bad)} intakes differ under {name}, first: {bad[0]!r}"


def test_no_random_intake_falls_back() -> None:
    """With the built-in rules and an up-to-date mirror, nothing goes to the reference."""
    run = random_run()
    assert sum(run.intakes.values()) == N_RANDOM
    assert run.fallback == 0 and run.fast >= 2 * N_RANDOM * len(IMPLS)


def test_the_random_intakes_reach_every_case() -> None:
    """The random sample exercises what the fast path must get right: every rule, cleared and
    not, every reason a clearance is not applied, expiry, raised levels, every level, position
    and urgency, incomplete screenings."""
    want = {*KNOWN, "cleared", "raised", "expired", "incomplete", "event_after_clearance",
            "event_undated", "level_raised_by_clinic", "standard", "adapt", "clearance_required",
            "urgent_referral", "emergency", "any", "side_lying_preferred",
            "side_lying_or_semi_reclining", "none", "suggested", "before_massage",
            "same_day"}  # fmt: skip
    seen = random_run().seen
    assert want <= seen, want - seen


@hypothesis_settings(max_examples=300, deadline=None)
@given(intakes())
def test_hypothesis_intakes_are_identical(obj: dict[str, Any]) -> None:
    """The project's intake strategy (any screening date, clearances) under every clinic."""
    intake = parse_intake(obj)
    for settings in ALL_SETTINGS.values():
        want = reference(intake, settings)
        for impl in IMPLS.values():
            assert_same(impl(settings), intake, want)


# --- what falls back ------------------------------------------------------------------------


def _one_intake() -> Intake:
    return parse_intake_json(orjson.dumps(random_intake(random.Random(1))), known_rules=KNOWN)


def test_another_rule_registry_falls_back() -> None:
    """A registry other than the built-in one is the reference's to evaluate (counted)."""
    other = register(RuleRegistry())
    fast = fastrules.FastEvaluator(DEFAULT_SETTINGS, rules=other)
    assert fast.decide(_one_intake()) is None and fast.decide_json(_one_intake()) is None
    assert (fast.fast, fast.fallback) == (0, 2)
    assert fastrules.FastEvaluator(DEFAULT_SETTINGS, rules=builtin_rules()).enabled


def test_a_changed_reference_switches_the_evaluator_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the reference sources no longer match, new evaluators decide nothing."""
    monkeypatch.setattr(fastrules, "UP_TO_DATE", False)
    fast = fastrules.FastEvaluator(DEFAULT_SETTINGS)
    assert fast.decide(_one_intake()) is None and fast.fallback == 1


@pytest.mark.parametrize("impl", IMPLS)
def test_each_decision_is_a_fresh_object(impl: str) -> None:
    """A caller may change the dict it got: the next decision is not affected (the plan and
    the score are memoised inside the evaluator)."""
    fast = IMPLS[impl](DEFAULT_SETTINGS)
    intake = _one_intake()
    first = fast.decide(intake)
    assert first is not None
    first["plan"]["pressure_max"]["head"] = -1
    first["plan"]["avoid"].append("x")
    first["scores"]["caprini"]["items"].append("x")
    for r in first["reasons"]:
        r["sources"].append("x")
        r["answers"]["x"] = 1
    assert fast.decide(intake) == reference(intake, DEFAULT_SETTINGS)


def test_answers_in_another_shape_fall_back() -> None:
    """Answers over anything but a validated model's full dict (every question id, missing
    ones as None) are the reference's to read (counted)."""
    partial = Answers.__new__(Answers)
    partial._d = {"rf_breathless": "yes"}
    intake = Intake(ON, partial)
    fast = fastrules.FastEvaluator(DEFAULT_SETTINGS)
    assert fast.decide(intake) is None and fast.decide_json(intake) is None
    assert (fast.fast, fast.fallback) == (0, 2)
