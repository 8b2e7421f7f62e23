"""Calculators per call: clotsafe against the MedCalc-Bench-Verified implementations.

    python benchmarks/calculators.py PEER_DIR

PEER_DIR is the ``calculator_implementations`` folder of a checkout of
github.com/nikhilk7153/MedCalc-Bench-Verified (CC-BY-SA 4.0; not vendored here). Every row of
shared/validation/medcalc_bench_verified_vte.csv (20 per calculator) is scored by both, as
tests/calculators/test_medcalc_crosscheck.py maps it: clotsafe's ``get(name).score(findings)``
(bounds, bands, item results) and the peer's explanation function of the same calculator (its
score and a worked explanation text, which is what it is for). Both in one process, each call
timed as the best of several rounds over all rows; the ratio is what to read on a busy machine.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package (mapping)

from tests.calculators.test_medcalc_crosscheck import Row, _rows, findings

from clotsafe.calculators import get

#: our calculator -> the peer's name_to_python.json id
PEER_IDS = {"wells_pe": "8", "wells_dvt": "16", "caprini": "36", "perc": "48"}


def peer_functions(peer: Path) -> dict[str, tuple[Callable[[dict[str, Any]], Any], dict[str, str]]]:
    sys.path.insert(0, str(peer))
    table = json.loads((peer / "name_to_python.json").read_text(encoding="utf-8"))
    out = {}
    for ours, pid in PEER_IDS.items():
        entry = table[pid]
        module = importlib.import_module(entry["file path"].removesuffix(".py"))
        out[ours] = (getattr(module, entry["explanation function"]), entry)
    return out


def best_per_call(fns: list[Callable[[Any], Any]], args: list[list[Any]], rounds: int = 300
                  ) -> list[float]:  # fmt: skip
    """µs per call of each ``fns[k]`` over ``args[k]``: the best of ``rounds`` passes, the
    functions taking turns within each round (a busy core only ever adds time, and then to
    both alike)."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, (fn, its_args) in enumerate(zip(fns, args, strict=True)):
            t0 = time.perf_counter()
            for a in its_args:
                fn(a)
            best[k] = min(best[k], time.perf_counter() - t0)
    return [b / len(a) * 1e6 for b, a in zip(best, args, strict=True)]


def main() -> None:
    peers = peer_functions(Path(sys.argv[1]))
    rows: dict[str, list[Row]] = {}
    for row in _rows():
        rows.setdefault(row.calculator, []).append(row)
    print("| calculator | rows | clotsafe µs/call | MedCalc-Bench µs/call | clotsafe / peer |")
    print("|---|---|---|---|---|")
    for name, its_rows in sorted(rows.items()):
        calc = get(name)
        ours = [(findings(r), r.version) for r in its_rows]
        fn, names = peers[name]
        theirs = [{names.get(k, k): v for k, v in r.entities.items()} for r in its_rows]
        # the peer may fill in defaults in its input: it gets a fresh copy each call, and the
        # copying is timed alone and taken off its time
        mine, peer, copying = best_per_call(
            [lambda a, calc=calc: calc.score(a[0], version=a[1]),
             lambda p, fn=fn: fn(copy.deepcopy(p)), copy.deepcopy],
            [ours, theirs, theirs],
        )  # fmt: skip
        peer -= copying
        print(f"| {name} | {len(its_rows)} | {mine:.1f} | {peer:.1f} | {mine / peer:.2f} |")


if __name__ == "__main__":
    main()
