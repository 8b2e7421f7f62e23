"""Write N varied, valid intakes as NDJSON (deterministic for a given seed).

python benchmarks/gen_intakes.py 100000 > benchmarks/out/intakes.ndjson
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta

import orjson

from clotsafe.domain.questions import CLOT_KINDS, CLOT_TREATMENTS, QUESTIONS
from clotsafe.domain.regions import GROUPS, REGIONS

SCREENED_ON = date(2026, 11, 25)
_UNCONDITIONAL = tuple(q for q in QUESTIONS if not q.enable_when)
_FOLLOW_UPS = tuple(q for q in QUESTIONS if q.enable_when)
SITES = list(REGIONS) + list(GROUPS) + ["lung", "other", "unsure"]


def _tri(rng: random.Random) -> str | None:
    r = rng.random()
    return None if r < 0.03 else "yes" if r < 0.10 else "unsure" if r < 0.12 else "no"


def _value(q, rng: random.Random):  # type: ignore[no-untyped-def]
    if q.type == "tri":
        return _tri(rng)
    if q.type == "date":
        return (SCREENED_ON - timedelta(days=rng.randint(0, 200))).isoformat()
    if q.type in ("int", "number"):
        lo, hi = q.minimum or 0, min(q.maximum or 100, 120)
        return rng.randint(int(lo), int(hi))
    if q.type == "enum":
        return rng.choice(q.values)
    if q.type == "regions":
        return rng.sample(list(REGIONS) + list(GROUPS), rng.randint(1, 2))
    if q.type == "names":
        return rng.sample(q.values, rng.randint(1, 2))
    return [_clot(rng) for _ in range(rng.randint(1, 2))]


def _clot(rng: random.Random) -> dict[str, object]:
    c: dict[str, object] = {
        "kind": rng.choice(CLOT_KINDS),
        "site": rng.choice(SITES),
        "treatment": rng.choice(CLOT_TREATMENTS),
    }
    if rng.random() < 0.9:
        c["diagnosed_on"] = (SCREENED_ON - timedelta(days=rng.randint(0, 2000))).isoformat()
    return c


def intake(rng: random.Random) -> dict[str, object]:
    answers: dict[str, object] = {}
    # two passes: a follow-up is asked only once the questions it depends on are answered,
    # wherever they are in the bank (rf_unusual_bleeding comes before anticoagulant)
    for q in (*_UNCONDITIONAL, *_FOLLOW_UPS):
        if q.enable_when and not q.enabled(answers):
            continue
        if q.type != "tri" and rng.random() < 0.3:
            continue
        v = _value(q, rng)
        if v is not None:
            answers[q.id] = v
    return {"screened_on": SCREENED_ON.isoformat(), "answers": answers}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 2026)
    out = sys.stdout.buffer
    for _ in range(n):
        out.write(orjson.dumps(intake(rng)) + b"\n")


if __name__ == "__main__":
    main()
