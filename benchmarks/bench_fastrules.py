"""The compiled rule evaluator against the reference engine, per intake, and the end-to-end
estimate of a batch line, against the in+out floor: all on one core, in one process.

    taskset -c 0 .venv/bin/python benchmarks/bench_fastrules.py [N] [ROUNDS]

N intakes of ``gen_intakes.py`` (default 20,000; the file ``batch.py`` screens), validated once
with the fast parser (msgspec). Each round runs every stage over the whole sample in turn
(interleaved, so a busy machine slows all of them alike) with a fresh ``FastEvaluator`` (its
plan memo starts empty, as in a batch); the best round of each stage is kept (default 5
rounds). Time is the process's CPU time (``time.process_time``): on a shared machine the
wall clock also counts the time other processes had the core. Stages, per intake:

* ``floor``: ``orjson.loads(line)`` + ``orjson.dumps(decision)`` (the decision decoded
  beforehand, as ``floor.py`` does): the least any batch must do;
* ``reference``: ``orjson.dumps(evaluate(intake).to_json())``;
* ``line: reference``: ``parse_intake_json(line)`` + that (``--batch --reference``);
* ``line: evaluate``: ``FastParser(line)`` + ``evaluate`` + ``DecisionDumper`` (the fast path
  when the compiled evaluator is off);
* ``fast dict``: ``orjson.dumps(FastEvaluator.decide(intake))``;
* ``fast``: ``FastEvaluator.decide_json(intake)``;
* ``line: fast``: ``FastParser.try_answers(line)`` + ``FastEvaluator.decide_answers_json``:
  the hot loop of ``clotsafe screen --batch`` (rules/fastbatch.py), without the I/O;
* ``fast [mypyc]``, ``line: fast [mypyc]``: the same with the mypyc build of the evaluator
  (``benchmarks/build_compiled.py``), when it is built from the current sources.

Before timing, every fast decision is checked byte for byte against the reference, and the
sample is moved out of the garbage collector's sight (``gc.freeze``), as a streaming batch
holds only the line in hand.
Prints a table (µs per intake, intakes per second, ratio to the floor) and a JSON line.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_intakes import intake as gen_intake

from clotsafe.calculators import caprini_fast
from clotsafe.domain.fastintake import FastParser
from clotsafe.domain.intake import parse_intake_json
from clotsafe.knowledge import clearable_rules
from clotsafe.rules import DEFAULT_SETTINGS, evaluate
from clotsafe.rules.fastbatch import evaluator_class, is_native
from clotsafe.rules.fastjson import DecisionDumper
from clotsafe.rules.fastrules import FastEvaluator

NATIVE = evaluator_class()
KNOWN = clearable_rules()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rng = random.Random(2026)
    lines = [orjson.dumps(gen_intake(rng)) for _ in range(n)]
    parser = FastParser(KNOWN)
    intakes = [parser(line) for line in lines]
    want = [orjson.dumps(evaluate(i).to_json()) for i in intakes]
    decisions = [orjson.loads(w) for w in want]
    check = FastEvaluator(DEFAULT_SETTINGS)
    assert [check.decide_json(i) for i in intakes] == want, "fast path differs"
    assert [orjson.dumps(check.decide(i)) for i in intakes] == want, "fast dict differs"
    native = NATIVE(DEFAULT_SETTINGS)
    assert [native.decide_answers_json(*parser.try_answers(x)) for x in lines] == want
    stages = dict(STAGES)
    if is_native(NATIVE):
        stages.update(NATIVE_STAGES)
    best = {name: float("inf") for name in stages}
    gc.collect()
    gc.freeze()  # the sample held here is not the batch's: a streaming batch holds one line
    for _ in range(rounds):
        for name, stage in stages.items():
            fast = (NATIVE if name.endswith("[mypyc]") else FastEvaluator)(DEFAULT_SETTINGS)
            caprini_fast._CACHE.clear()  # a batch starts with an empty memo too
            t0 = time.process_time()
            stage(fast, parser, lines, intakes, decisions)
            best[name] = min(best[name], time.process_time() - t0)
    report(n, rounds, best)


def _floor(_f: Any, _p: Any, lines: list[bytes], _i: Any, decisions: list[Any]) -> None:
    loads, dumps = orjson.loads, orjson.dumps
    for line, d in zip(lines, decisions, strict=True):
        loads(line)
        dumps(d)


def _reference(_f: Any, _p: Any, _l: Any, intakes: list[Any], _d: Any) -> None:
    dumps = orjson.dumps
    for i in intakes:
        dumps(evaluate(i).to_json())


def _line_reference(_f: Any, _p: Any, lines: list[bytes], _i: Any, _d: Any) -> None:
    dumps = orjson.dumps
    for line in lines:
        dumps(evaluate(parse_intake_json(line, known_rules=KNOWN)).to_json())


def _fast_dict(fast: FastEvaluator, _p: Any, _l: Any, intakes: list[Any], _d: Any) -> None:
    dumps, decide = orjson.dumps, fast.decide
    for i in intakes:
        dumps(decide(i))


def _fast(fast: FastEvaluator, _p: Any, _l: Any, intakes: list[Any], _d: Any) -> None:
    decide = fast.decide_json
    for i in intakes:
        decide(i)


def _line_evaluate(_f: Any, parser: FastParser, lines: list[bytes], _i: Any, _d: Any) -> None:
    dump = DecisionDumper()
    for line in lines:
        dump(evaluate(parser(line)))


def _line_fast(
    fast: FastEvaluator, parser: FastParser, lines: list[bytes], _i: Any, _d: Any
) -> None:
    decide, parse = fast.decide_answers_json, parser.try_answers
    for line in lines:
        decide(*parse(line))  # type: ignore[misc]  # every line of the sample is taken


Stage = Callable[[FastEvaluator, FastParser, list[bytes], list[Any], list[Any]], None]
STAGES: dict[str, Stage] = {
    "floor": _floor,
    "reference": _reference,
    "line: reference": _line_reference,
    "line: evaluate": _line_evaluate,
    "fast dict": _fast_dict,
    "fast": _fast,
    "line: fast": _line_fast,
}
NATIVE_STAGES: dict[str, Stage] = {"fast [mypyc]": _fast, "line: fast [mypyc]": _line_fast}


def report(n: int, rounds: int, best: dict[str, float]) -> None:
    floor = best["floor"]
    print(
        f"{n} intakes of gen_intakes.py, best of {rounds} rounds, one process, "
        f"load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    print(f"{'stage':<20} {'µs/intake':>10} {'intakes/s':>10} {'× floor':>8}")
    for name, s in best.items():
        print(f"{name:<20} {s / n * 1e6:>10.1f} {n / s:>10,.0f} {s / floor:>8.2f}")
    speedup = best["reference"] / best["fast"]
    print(f"evaluate+to_json+dumps / decide_json: {speedup:.1f}×")
    print(orjson.dumps({k: round(n / v) for k, v in best.items()}).decode())


if __name__ == "__main__":
    main()
