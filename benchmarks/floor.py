"""The in+out floor of a batch: parse each input line and serialise its real decision, nothing else.

    python benchmarks/floor.py INTAKES.ndjson DECISIONS.ndjson

DECISIONS is what `clotsafe screen --batch INTAKES` wrote (one decision JSON per line). The
decisions are decoded in blocks *outside* the timed part; the timed part is, per intake,
``orjson.loads(input line)`` + ``orjson.dumps(decision)`` + the write: the least any batch
screener must do with orjson in and out. Prints ``{"intakes": n, "seconds": s}`` (timed part
only; wall and CPU time) on stdout.
"""

from __future__ import annotations

import os
import sys
import time
from itertools import islice

import orjson

BLOCK = 10_000


def main() -> None:
    loads, dumps = orjson.loads, orjson.dumps
    seconds, cpu, n = 0.0, 0.0, 0
    with (
        open(sys.argv[1], "rb") as intakes,
        open(sys.argv[2], "rb") as decided,
        open(os.devnull, "wb") as out,
    ):
        while lines := list(islice(intakes, BLOCK)):
            decisions = [loads(d) for d in islice(decided, len(lines))]
            t0, c0 = time.perf_counter(), time.process_time()
            for line, decision in zip(lines, decisions, strict=True):
                loads(line)
                out.write(dumps(decision) + b"\n")
            seconds += time.perf_counter() - t0
            cpu += time.process_time() - c0
            n += len(lines)
    print(orjson.dumps({"intakes": n, "seconds": seconds, "cpu": cpu}).decode())


if __name__ == "__main__":
    main()
