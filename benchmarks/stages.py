"""Per-intake cost of each stage of a batch, reference and fast path, against the in+out floor.

    python benchmarks/stages.py [N]        # N intakes of gen_intakes.py (default 5,000)

In one process, on the same intakes, every measured function runs over the same block of 100
lines in turn, each block ``REPEAT`` times, keeping each function's best time per block: a busy
machine only ever adds time, and it adds it to all of them alike, so the ratios to the floor
hold even when the absolute figures do not. Stages:

* floor: ``orjson.loads(line)`` + ``orjson.dumps(decision as a dict)``;
* parse: ``parse_intake_json`` (pydantic) / ``FastParser`` (msgspec);
* evaluate: the engine; Caprini from the intake alone, for scale; the compiled evaluator
  (``FastEvaluator.decide_json``: evaluation and JSON in one);
* dump: ``orjson.dumps(decision.to_json())`` / ``DecisionDumper``;
* whole line: parse + evaluate + dump; on the fast path with the compiled evaluator, and
  without it (as when it is out of date with the rules).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from clotsafe.calculators.caprini_intake import caprini_from_intake
from clotsafe.domain.fastintake import FastParser
from clotsafe.domain.intake import parse_intake_json
from clotsafe.knowledge import clearable_rules
from clotsafe.rules import evaluate
from clotsafe.rules.fastjson import DecisionDumper
from clotsafe.rules.fastrules import FastEvaluator

HERE = Path(__file__).resolve().parent
REPEAT = int(os.environ.get("REPEAT", "5"))
BLOCK = 100


def per_call(stages: dict[str, tuple[Callable[[Any], Any], list[Any]]]) -> dict[str, float]:
    """µs per call of each stage (see the module docstring for the method)."""
    total = dict.fromkeys(stages, 0.0)
    n = len(next(iter(stages.values()))[1])
    for start in range(0, n, BLOCK):
        for name, (fn, args) in stages.items():
            block = args[start : start + BLOCK]
            best = float("inf")
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                for a in block:
                    fn(a)
                best = min(best, time.perf_counter() - t0)
            total[name] += best
    return {k: v / n * 1e6 for k, v in total.items()}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    gen = subprocess.run([sys.executable, str(HERE / "gen_intakes.py"), str(n)],
                         capture_output=True, check=True)  # fmt: skip
    lines = gen.stdout.splitlines()
    known = clearable_rules()
    fast, dump, compiled = FastParser(known), DecisionDumper(), FastEvaluator()
    intakes = [parse_intake_json(line, known_rules=known) for line in lines]
    decisions = [evaluate(i) for i in intakes]
    dicts = [d.to_json() for d in decisions]
    pairs = list(zip(lines, dicts, strict=True))

    def floor_line(pair: tuple[bytes, dict[str, Any]]) -> bytes:
        orjson.loads(pair[0])
        return orjson.dumps(pair[1])

    def reference(line: bytes) -> bytes:
        return orjson.dumps(evaluate(parse_intake_json(line, known_rules=known)).to_json())

    stages: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        "floor: orjson in + out": (floor_line, pairs),
        "parse, reference (pydantic)": (lambda s: parse_intake_json(s, known_rules=known), lines),
        "parse, fast (msgspec)": (fast, lines),
        "evaluate (the engine)": (evaluate, intakes),
        "  of which Caprini (memo warm)": (
            lambda i: caprini_from_intake(i.answers, i.screened_on), intakes),
        "compiled evaluator, to JSON bytes": (compiled.decide_json, intakes),
        "dump, reference (to_json)": (lambda d: orjson.dumps(d.to_json()), decisions),
        "dump, fast (DecisionDumper)": (dump, decisions),
        "whole line, reference": (reference, lines),
        "whole line, fast, not compiled": (lambda s: dump(evaluate(fast(s))), lines),
        "whole line, fast": (lambda s: compiled.decide_json(fast(s)), lines),
    }  # fmt: skip
    us = per_call(stages)
    floor = us["floor: orjson in + out"]
    print(f"{n:,} intakes of gen_intakes.py, best of {REPEAT} per block of {BLOCK}; "
          f"load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip
    print("| stage | µs per intake | × floor | intakes/s at this rate |")
    print("|---|---|---|---|")
    for name, t in us.items():
        print(f"| {name} | {t:.1f} | {t / floor:.1f} | {1e6 / t:,.0f} |")
    print(f"\nfast parser: {fast.fast} fast, {fast.fallback} to pydantic; "
          f"dumper: {dump.fast} fast, {dump.reference} through to_json; "
          f"compiled: {compiled.fast} decided, {compiled.fallback} declined")  # fmt: skip


if __name__ == "__main__":
    main()
