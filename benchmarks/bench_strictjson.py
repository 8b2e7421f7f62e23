"""Cost of refusing duplicate JSON keys (clotsafe.domain.strictjson), per intake, in µs.

.venv/bin/python benchmarks/bench_strictjson.py            # 2,000 generated intakes
taskset -c 0 .venv/bin/python benchmarks/bench_strictjson.py 5000

Intakes come from gen_intakes.py (every question of the bank, clots, fixed seed), serialised
with orjson (compact) and with json.dumps(indent=2) (spaces and newlines). Each option decodes
every intake; the best of 15 interleaved rounds is reported as CPU µs per intake.
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


def _pair_walk(raw: bytes) -> Any:
    """The rejected check: count the decoded pairs with a Python walk (only sound when no string
    holds a colon, so FHIR text would always need a second check)."""
    value = orjson.loads(raw)
    pairs, stack = 0, [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            pairs += len(node)
            node = node.values()
        stack.extend(x for x in node if type(x) is dict or type(x) is list)
    if pairs != raw.count(b":"):
        strictjson.duplicate_keys(raw)
    return value


def _duplicate(raw: bytes) -> bytes:
    """The same intake with its first answer given a second time (the failure path)."""
    first = next(iter(orjson.loads(raw)["answers"]))
    return raw.replace(b'"answers":{', b'"answers":{"%s":"no",' % first.encode(), 1)


def _with_colon(raw: bytes) -> bytes:
    """The same intake with a colon inside a string (the exact, slower check)."""
    return raw.replace(b'"screened_on":"', b'"x":"10:30","screened_on":"', 1)


Case = tuple[Callable[[bytes], Any], list[bytes]]


def _compare(cases: dict[str, Case], rounds: int = 15) -> dict[str, float]:
    """CPU µs per document of each case: best of ``rounds``, the cases interleaved in each round.

    CPU time of this process (``time.process_time``), not wall time: on the shared machine the
    other engineers' jobs take the core away for whole milliseconds, which wall time counts."""
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(rounds):
        for label, (fn, docs) in cases.items():
            start = time.process_time()
            for d in docs:
                fn(d)
            best[label] = min(best[label], (time.process_time() - start) / len(docs) * 1e6)
    return best


def _refuse(raw: bytes) -> None:
    try:
        strictjson.loads(raw)
    except strictjson.JsonInputError:
        return
    raise AssertionError("a repeated key was not refused")


def _intake_cases(docs: list[bytes], *, changed: bool) -> dict[str, Case]:
    cases: dict[str, Case] = {
        "orjson.loads alone (the floor)": (orjson.loads, docs),
        "strictjson.loads": (strictjson.loads, docs),
        "orjson + Python walk counting pairs": (_pair_walk, docs),
        "json.loads(object_pairs_hook=...)": (_stdlib_hook, docs),
        "duplicate_keys (the path finder)": (strictjson.duplicate_keys, docs),
    }
    if changed:
        cases["strictjson.loads, a string with a colon"] = (
            strictjson.loads,
            [_with_colon(d) for d in docs],
        )
        cases["strictjson.loads refusing a repeat"] = (_refuse, [_duplicate(d) for d in docs])
    return cases


def _cds_body(observations: int) -> bytes:
    """A CDS Hooks request whose prefetch holds ``observations`` Observations (URLs: colons)."""
    entries = [
        {"resource": {"resourceType": "Observation", "id": f"o{i}", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
                      "effectiveDateTime": "2026-11-01T10:30:00Z",
                      "valueQuantity": {"value": 170, "unit": "cm"}}}
        for i in range(observations)
    ]  # fmt: skip
    body = {"hook": "patient-view", "context": {"patientId": "p1"},
            "prefetch": {"observations": {"resourceType": "Bundle", "entry": entries}}}  # fmt: skip
    return orjson.dumps(body)


def _cds_cases(observations: int) -> dict[str, Case]:
    raw = _cds_body(observations)
    repeat = raw[:-3] + b',"resourceType":"Bundle"}}}'
    return {
        "orjson.loads alone (the floor)": (orjson.loads, [raw]),
        "strictjson.loads": (strictjson.loads, [raw]),
        "json.loads(object_pairs_hook=...)": (_stdlib_hook, [raw]),
        "strictjson.loads refusing a repeat at the end": (_refuse, [repeat]),
    }


def _print(title: str, results: dict[str, float], unit: str = "µs") -> None:
    print(f"\n{title}")
    scale = 1000 if unit == "ms" else 1
    for label, us in results.items():
        print(f"  {label:<46} {us / scale:9.2f} {unit}")


def main(n: int) -> None:
    rng = random.Random(7)
    values = [intake(rng) for _ in range(n)]
    compact = [orjson.dumps(v) for v in values]
    indented = [json.dumps(v, indent=2).encode() for v in values]
    size = sum(map(len, compact)) // n
    _print(
        f"{n} intakes, compact, mean {size:,} bytes:",
        _compare(_intake_cases(compact, changed=True)),
    )
    size = sum(map(len, indented)) // n
    _print(
        f"{n} intakes, indent=2, mean {size:,} bytes:",
        _compare(_intake_cases(indented, changed=False)),
    )
    for observations in (300, 20_000):
        raw_size = len(_cds_body(observations))
        title = f"CDS Hooks body, {observations:,} Observations, {raw_size:,} bytes:"
        _print(title, _compare(_cds_cases(observations), rounds=5), "ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
