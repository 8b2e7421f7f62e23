"""The batch fast path writes exactly what the reference writes.

The reference for one line is ``orjson.dumps(evaluate(parse_intake_json(line), settings=s)
.to_json())``, or ``{"line": n, "error": [...]}`` with the parser's error list. The fast path
(msgspec validation, the decision dumper) must give the same bytes on every golden vignette and
on 20,000 random intakes rich in "yes"/"unsure", clots, clearances and broken lines, under the
default policy and a stricter clinic; whatever it does not take is counted as reference.
The compiled evaluator runs as Python and, when ``benchmarks/build_compiled.py`` built it from
the current sources, as its mypyc build (``CLOTSAFE_PURE_PYTHON=1`` runs everything as Python).
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from clotsafe.domain.errors import ClotsafeInputError
from clotsafe.domain.fastintake import FastParser
from clotsafe.domain.intake import parse_intake_json
from clotsafe.domain.questions import CLOT_KINDS, CLOT_TREATMENTS, QUESTIONS
from clotsafe.domain.regions import GROUPS, REGIONS
from clotsafe.knowledge import clearable_rules
from clotsafe.rules import (
    DEFAULT_SETTINGS,
    Settings,
    evaluate,
    fastbatch,
    fastjson,
    fastrules,
    load_settings,
)
from clotsafe.rules.fastbatch import BatchStats, LineScreener, evaluator_class, is_native

VIGNETTES = sorted((Path(__file__).resolve().parents[1] / "vignettes").glob("*.json"))

CLINIC = load_settings(
    """
name = "Strict clinic"
clearance_valid_days = 45
[windows]
clot_active_days = 180
surgery_early_days = 42
platelets_low_below = 100
pregnancy_side_lying_week = 10
caprini_high_min = 2
caprini_highest_min = 4
[rules.CLOT-HISTORY]
level = "clearance_required"
pressure_max = { legs = 1, all = 3 }
avoid = ["abdomen"]
session_minutes_max = 30
[rules.TRAVEL]
pressure_max = { all = 2 }
[rules.VARICOSE-MILD]
avoid = ["left_calf"]
""",
    "strict",
)
SETTINGS = (DEFAULT_SETTINGS, CLINIC)
KNOWN = clearable_rules()


def reference(line: bytes, n: int, settings: Settings) -> bytes:
    """What the batch wrote before the fast path: the definition of the output."""
    try:
        intake = parse_intake_json(line, known_rules=KNOWN)
    except ClotsafeInputError as exc:
        return orjson.dumps({"line": n, "error": exc.to_dict()["errors"]})
    return orjson.dumps(evaluate(intake, settings=settings).to_json())


def fast_batch(
    lines: list[bytes], settings: Settings, *, compiled: bool = True, python: bool = False
) -> tuple[list[bytes], BatchStats]:
    """The fast path; ``compiled=False``: without the compiled evaluator (as when it is out of
    date with the rules), so that the Screener, evaluate and the decision dumper decide;
    ``python``: the compiled evaluator as Python even where its mypyc build is there."""
    screener = LineScreener(settings)
    if not compiled:
        screener.compiled = None
    elif python:
        screener.compiled, screener.native = fastrules.FastEvaluator(settings), False
    total = BatchStats()
    out: list[bytes] = []
    for start in range(0, len(lines), 1000):
        block, counts = screener.block(start + 1, lines[start : start + 1000])
        out.extend(block.splitlines())
        total.add(counts)
    return out, total


def test_the_dumper_mirrors_the_current_decision_json() -> None:
    """The dumper was written against today's Decision/Reason.to_json and Caprini summary; if
    they change, it switches itself off (everything through to_json) and this test says so."""
    assert fastjson.UP_TO_DATE, (
        "Decision.to_json, Reason.to_json or ScoreResult.summary changed: bring "
        "rules/fastjson.py up to date, then set MIRRORED = fastjson.mirrored_source_hash() "
        f"({fastjson.mirrored_source_hash()})"
    )


@pytest.mark.parametrize("compiled", [True, False], ids=("compiled", "evaluate"))
@pytest.mark.parametrize("settings", SETTINGS, ids=("default", "clinic"))
def test_every_vignette_is_byte_identical(settings: Settings, compiled: bool) -> None:
    """Every golden vignette: same bytes, with the compiled evaluator and without it; all on
    the fast path but those that write an explicit null (valid, and left to the reference
    parser: see fastintake._unique)."""
    lines = [orjson.dumps(json.loads(p.read_text())["intake"]) for p in VIGNETTES]
    got, stats = fast_batch(lines, settings, compiled=compiled)
    want = [reference(line, n, settings) for n, line in enumerate(lines, 1)]
    assert got == want
    assert stats.parsed_reference == sum(b":null" in line for line in lines)
    decided = len(lines) - stats.failed
    assert stats.compiled + stats.evaluated == decided
    assert (stats.compiled if compiled else stats.dumped_fast) == decided


# --- 20,000 random intakes -------------------------------------------------------------------

ON = date(2026, 11, 25)
SITES = (*REGIONS, *GROUPS, "lung", "other", "unsure")
CLEARABLE = sorted(r for r, ok in KNOWN.items() if ok)


def _tri(rng: random.Random) -> str | None:
    r = rng.random()
    return None if r < 0.08 else "yes" if r < 0.38 else "unsure" if r < 0.50 else "no"


def _day(rng: random.Random, back: int) -> str:
    return (ON - timedelta(days=rng.randint(0, back))).isoformat()


def _value(q: Any, rng: random.Random) -> Any:
    if q.type == "tri":
        return _tri(rng)
    if q.type == "date":
        return _day(rng, 200)
    if q.type == "int":
        return rng.randint(int(q.minimum or 0), int(min(q.maximum or 100, 100)))
    if q.type == "number":  # whole and fractional, as clients type them
        x = rng.uniform(q.minimum or 0, min(q.maximum or 200, 200))
        return round(x, 1) if rng.random() < 0.5 else int(x)
    if q.type == "enum":
        return rng.choice(q.values)
    if q.type == "regions":
        return rng.sample(SITES[:-3], rng.randint(1, 3))
    if q.type == "names":
        return rng.sample(q.values, rng.randint(1, 2))
    return [_clot(rng) for _ in range(rng.randint(1, 3))]


def _clot(rng: random.Random) -> dict[str, Any]:
    c: dict[str, Any] = {"kind": rng.choice(CLOT_KINDS)}
    for key, pick in (("site", lambda: rng.choice(SITES)), ("diagnosed_on", lambda: _day(rng, 900)),
                      ("treatment", lambda: rng.choice(CLOT_TREATMENTS))):  # fmt: skip
        if rng.random() < 0.85:
            c[key] = pick()
    return c


def _clearance(rng: random.Random) -> dict[str, Any]:
    c: dict[str, Any] = {
        "rules": rng.sample(CLEARABLE, rng.randint(1, 3)),
        "clinician": rng.choice(("Dr A. Example", "Dr B. Other (GP)")),
        "date": _day(rng, 150),
    }
    if rng.random() < 0.4:
        c["valid_until"] = (date.fromisoformat(c["date"]) + timedelta(days=rng.randint(0, 120))
                            ).isoformat()  # fmt: skip
    if rng.random() < 0.7:
        caps = {r: rng.randint(0, 5) for r in rng.sample(SITES[:-3], rng.randint(0, 3))}
        avoid = rng.sample(SITES[:-3], rng.randint(0, 2))
        notes = rng.choice(("", "No deep work.", "Gentle only"))
        c["restrictions"] = {"pressure_max": caps, "avoid": avoid, "notes": notes}
    return c


#: follow-ups after the questions they depend on (rf_unusual_bleeding precedes anticoagulant)
FIRST_ASKED = (
    *[q for q in QUESTIONS if not q.enable_when],
    *[q for q in QUESTIONS if q.enable_when],
)


def random_intake(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in FIRST_ASKED:
        if q.enable_when and not q.enabled(answers) and rng.random() < 0.9:
            continue
        if q.type != "tri" and rng.random() < 0.25:
            continue
        v = _value(q, rng)
        if v is not None:
            answers[q.id] = v
    obj: dict[str, Any] = {"screened_on": ON.isoformat(), "answers": answers}
    if rng.random() < 0.3:
        obj["clearances"] = [_clearance(rng) for _ in range(rng.randint(1, 2))]
    return obj


#: lines the fast path must hand to the reference (each changes one good line)
BREAKERS = (
    lambda s: s[:-5],  # not JSON
    lambda s: s.replace(b'{"screened_on"', b'{"screened_on":"2026-11-25","screened_on"', 1),
    lambda s: s.replace(b'"answers":{', b'"answers":{"age":null,', 1),  # a null (valid)
    lambda s: s.replace(b'"answers":{', b'"answers":{"age":"old",', 1),
    lambda s: s.replace(b'"answers":{', b'"answers":{"not_a_question":"yes",', 1),
    lambda s: s.replace(b'"answers":{', b'"answers":{"surgery_on":"2027-01-01",', 1),
    lambda s: s.replace(b'"answers":{', b'"answers":{"age":40.0,', 1),
    lambda s: s.replace(b'"screened_on":"2026-11-25"', b'"screened_on":"2026-02-30"', 1),
    lambda s: s[:-1] + b',"clearances":[{"rules":["RF-PE"],"clinician":"X","date":"2026-11-01"}]}',
    lambda s: s[:-1] + b',"clearances":[{"rules":["NOPE"],"clinician":"X","date":"2026-11-01"}]}',
    lambda s: (
        s[:-1] + b',"clearances":[{"rules":["TRAVEL"],"clinician":"Dr \\u00e9 : A",'
        b'"date":"2026-11-01","restrictions":{"notes":"a: b"}}]}'
    ),
    lambda s: (
        s[:-1] + b',"clearances":[{"rules":["TRAVEL"],"clinician":"Dr M\xc3\xbcller",'
        b'"date":"2026-11-01","restrictions":null}]}'
    ),
    lambda s: (
        s[:-1] + b',"clearances":[{"rules":["TRAVEL"],"clinician":"A","date":"2026-11-01",'
        b'"valid_until":"2026-10-01"}]}'
    ),
    lambda s: b"   " + s + b"  ",
    lambda s: b"",
)


def random_lines(n: int, seed: int = 20261125) -> list[bytes]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        line = orjson.dumps(random_intake(rng))
        if rng.random() < 0.03:
            line = rng.choice(BREAKERS)(line)
        lines.append(line)
    return lines


def test_20000_random_intakes_are_byte_identical() -> None:
    """20,000 random intakes, each half under the default policy and a strict clinic; a quarter
    with the compiled evaluator as the batch picks it (its mypyc build when current), one
    without it, one with it as Python, and one as the batch picks it: every output line equals
    the reference, and every line the fast path passed on is counted."""
    lines = random_lines(20_000)
    runs = [(DEFAULT_SETTINGS, True, False), (DEFAULT_SETTINGS, False, False),
            (CLINIC, True, True), (CLINIC, True, False)]  # fmt: skip
    for k, (settings, compiled, python) in enumerate(runs):
        part = lines[k * 5000 : (k + 1) * 5000]
        got, stats = fast_batch(part, settings, compiled=compiled, python=python)
        want = [reference(line, n, settings) for n, line in enumerate(part, 1)]
        diff = [n for n, (g, w) in enumerate(zip(got, want, strict=True), 1) if g != w]
        assert not diff, f"{settings.name}, compiled={compiled}: lines differ: {diff[:10]}"
        assert stats.parsed_fast + stats.parsed_reference == len(part)
        assert stats.failed == sum(w.startswith(b'{"line"') for w in want)
        assert 50 < stats.parsed_reference < 500  # the broken lines, and only those
        decided = len(part) - stats.failed
        assert (stats.compiled if compiled else stats.dumped_fast) == decided
        native = compiled and not python and is_native(evaluator_class())
        assert stats.native == (decided if native else 0)


def test_the_compiled_build_is_used_only_when_current(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch takes the mypyc build only when it was built from the sources as they are now
    (a stale build would decide with yesterday's rules) and CLOTSAFE_PURE_PYTHON is unset;
    otherwise the same code runs as Python."""
    built = is_native(evaluator_class())
    monkeypatch.setenv("CLOTSAFE_PURE_PYTHON", "1")
    assert evaluator_class() is fastrules.FastEvaluator
    monkeypatch.delenv("CLOTSAFE_PURE_PYTHON")
    monkeypatch.setattr(fastbatch, "sources_hash", lambda: "0" * 64)
    assert evaluator_class() is fastrules.FastEvaluator
    monkeypatch.undo()
    assert is_native(evaluator_class()) == built
    if not built:
        pytest.skip("no mypyc build here (benchmarks/build_compiled.py): pure Python only")


def test_fast_intake_is_the_reference_intake() -> None:
    """The fast validator builds the same Intake: answer values with the same types (a whole
    number for a decimal question is a float, as pydantic makes it), clearances, to_json."""
    parser = FastParser(KNOWN)
    for line in random_lines(2000, seed=7):
        fast = parser.try_fast(line)
        if fast is None:
            continue
        ref = parse_intake_json(line, known_rules=KNOWN)
        a, b = ref.answers.as_mapping(), fast.answers.as_mapping()
        assert list(a) == list(b)
        assert [(type(v), v) for v in a.values()] == [(type(v), v) for v in b.values()]
        assert fast.clearances == ref.clearances and fast.to_json() == ref.to_json()
    assert parser.fast == 0 and parser.fallback == 0  # try_fast itself counts nothing


def test_a_duplicate_key_is_refused_as_the_reference_refuses_it() -> None:
    """A key named twice never reaches the fast validator's "last one wins"."""
    line = orjson.dumps(random_intake(random.Random(3)))
    dup = line.replace(b'"answers":{', b'"answers":{"rf_breathless":"yes","rf_breathless":"no",')
    parser = FastParser(KNOWN)
    with pytest.raises(ClotsafeInputError) as exc:
        parser(dup)
    assert exc.value.errors[0].code == "duplicate_key" and parser.fallback == 1


EDGE = b'{"screened_on":"2026-11-25","answers":{"age":%s},"clearances":[{"rules":["TRAVEL"],'
EDGE += b'"clinician":"%s","date":"2026-11-01"}]}'


@pytest.mark.parametrize(
    ("age", "clinician"),
    [(b"01", b"A"), (b"+1", b"A"), (b"1.", b"A"), (b".5", b"A"), (b"1e2", b"A"), (b"-0", b"A"),
     (b"1 ,", b"A"), (b"1", b"A\tB"), (b"1", b"A\x01B"), (b"1", b"A\x7fB"), (b"1", b"A\\/B"),
     (b"1", b'A\\"B'), (b"NaN", b"A"), (b"1", b"A\\u0041")],
)  # fmt: skip
def test_json_edge_cases_are_decided_as_the_reference_decides(age: bytes, clinician: bytes) -> None:
    """Text JSON parsers disagree on (leading zeros, control characters, NaN, escapes): the
    fast validator accepts only what the reference accepts, and then builds the same intake."""
    raw = EDGE % (age, clinician)
    fast = FastParser(KNOWN).try_fast(raw)
    try:
        ref = parse_intake_json(raw, known_rules=KNOWN)
    except ClotsafeInputError:
        assert fast is None
        return
    assert fast is None or (fast.to_json() == ref.to_json() and fast.clearances == ref.clearances)
