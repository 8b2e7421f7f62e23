"""Cost of refusing duplicate JSON keys (clotsafe.domain.strictjson), per intake, in µs.

.venv/bin/python benchmarks/bench_strictjson.py            # 2,000 generated intakes
taskset -c 0 .venv/bin/python benchmarks/bench_strictjson.py 5000

Intakes come from gen_intakes.py (every question of the bank, clots, fixed seed), serialised
with orjson (compact) and with json.dumps(indent=2) (spaces and newlines). Each option decodes
every intake; the best of 5 rounds is reported as µs per intake.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_intakes import intake

from clotsafe.domain import strictjson


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ValueError("duplicate key")
    return d


def _stdlib_hook(raw: bytes) -> Any:
    return json.loads(raw, object_pairs_hook=_pairs_hook)


def _duplicate(raw: bytes) -> bytes:
    """The same intake with its first answer given a second time (the failure path)."""
    first = next(iter(orjson.loads(raw)["answers"]))
    return raw.replace(b'"answers":{', b'"answers":{"%s":"no",' % first.encode(), 1)


def _with_colon(raw: bytes) -> bytes:
    """The same intake with a colon inside a string (the exact, slower check)."""
    return raw.replace(b'"screened_on":"', b'"x":"10:30","screened_on":"', 1)


OPTIONS: dict[str, Callable[[bytes], Any]] = {
    "orjson.loads alone (floor)": orjson.loads,
    "strictjson.loads (orjson + colon count)": strictjson.loads,
    "json.loads + object_pairs_hook": _stdlib_hook,
    "strictjson.duplicate_keys (path finder)": strictjson.duplicate_keys,
}


def _best(fn: Callable[[bytes], Any], docs: list[bytes], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for d in docs:
            fn(d)
        best = min(best, time.perf_counter() - start)
    return best / len(docs) * 1e6


def _refused(docs: list[bytes]) -> float:
    def one(d: bytes) -> None:
        try:
            strictjson.loads(d)
        except strictjson.JsonInputError:
            return
        raise AssertionError("a duplicate key was not refused")

    return _best(one, [_duplicate(d) for d in docs])


def main(n: int) -> None:
    rng = random.Random(7)
    values = [intake(rng) for _ in range(n)]
    sets = {
        "compact": [orjson.dumps(v) for v in values],
        "indent=2": [json.dumps(v, indent=2).encode() for v in values],
    }
    for name, docs in sets.items():
        size = sum(map(len, docs)) / len(docs)
        print(f"\n{name}: {n} intakes, mean {size:,.0f} bytes")
        for label, fn in OPTIONS.items():
            print(f"  {label:<42} {_best(fn, docs):6.2f} µs")
    docs = sets["compact"]
    changed = {
        "strictjson.loads, a string with a colon": _best(
            strictjson.loads, [_with_colon(d) for d in docs]
        ),
        "strictjson.loads refusing a duplicate": _refused(docs),
    }
    print("\ncompact, changed as said:")
    for label, us in changed.items():
        print(f"  {label:<42} {us:6.2f} µs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
