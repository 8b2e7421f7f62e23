"""Bulk screening speed and memory, against a floor measured in the same run.

    .venv/bin/python benchmarks/bulk/generate.py --patients 10000 --out /tmp/bulk-10k
    .venv/bin/python benchmarks/bulk/bench.py --dir /tmp/bulk-10k [--spark] [--out result.json]
        [--runs floor,sql-1,e2e-1,e2e-2] [--repeat 3]

Each measurement runs in its own process (so its peak memory is its own); the one-core runs
(``floor``, ``sql-1``, ``e2e-1``) are pinned to CPU 0 with ``taskset -c 0`` when it exists:

* ``floor``: ``orjson.loads`` of every line of every file of the export, one core: what merely
  parsing the export costs in Python;
* ``sql-1``, ``sql-2``: DuckDB with 1 and 2 threads: the views, the code-list join and the
  grouped fetch of the kept lines (everything before the Python stage); resources/s and the
  ratio to the floor (goal ≥ 1.5);
* ``e2e-1``: ``bulk screen`` end to end, DuckDB on 1 thread and the Python stage in-process
  (one core); ``e2e-2``: DuckDB on 2 threads and ``--workers 2``; patients/s (goal ≥ 1,000 per
  core) and peak memory (the process and its workers; goal ≤ 1 GiB);
* ``spark`` (with ``--spark``): ``--engine spark`` on ``local[2]``, against ``e2e-2``.

With ``--repeat N`` the runs go round N times (floor, sql-1, ..., floor, sql-1, ...), each
round's ratios are to its own floor, and the summary gives each figure's median over the
rounds and its range. For the SQL runs the summary also splits the CPU time: the fetch of the
kept lines' text (its thread), the groups, and the rest (DuckDB's reading, the views and the
keep files: ``sql-1_cpu_ratio_to_floor_without_text``).

Before each run every file of the export is read once, untimed (``warm``), so that every run
starts with the export in the page cache as far as it fits. Each run reports its wall time, its
CPU time (every thread, and the workers: on a shared machine the CPU-time ratios are the ones
to read), its peak resident memory (``ru_maxrss`` of the process; the workers' own peak and that
of the process and its workers together, sampled from /proc: ``ChildMemory``) and the load
average before and after it.

Figures are ratios to numbers measured in the same run, never absolute promises: the machine
this runs on is shared. Results: benchmarks/bulk/README.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import orjson

ON = date(2026, 11, 25)


def _cpu_seconds() -> float:
    """CPU time of this process (every thread) and its finished children (the workers): on a
    shared machine the fair measure of work done, beside the wall time."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mib() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"peak_mib": round(max(own, children) / 1024, 1), "peak_mib_self": round(own / 1024, 1),
            "peak_mib_largest_child": round(children / 1024, 1)}  # fmt: skip


class ChildMemory:
    """The peak resident memory of this process's live children (the workers), sampled
    twice a second from /proc (``VmHWM``, reset at exec), and of all of them together with
    this process. ``ru_maxrss`` of RUSAGE_CHILDREN is not it: a spawned worker is forked
    before it execs, and for that moment it counts the parent's whole resident memory."""

    def __init__(self) -> None:
        self.worker_mib = 0.0
        self.total_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ChildMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            kids = [_status(pid) for pid in _children()]
            hwm = [k.get("VmHWM", 0.0) for k in kids]
            self.worker_mib = max([self.worker_mib, *hwm])
            now = _status(os.getpid()).get("VmRSS", 0.0) + sum(k.get("VmRSS", 0.0) for k in kids)
            self.total_mib = max(self.total_mib, now)


def _children(pid: int | None = None) -> list[int]:
    """Every process below this one: the workers are the children of the forkserver
    (``screen._context``), itself a child of this process."""
    out: list[int] = []
    for task in Path(f"/proc/{pid or os.getpid()}/task").glob("*"):
        try:
            kids = [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            out += [kid, *_children(kid)]
    return out


def _stop_forkserver() -> None:
    """Stop this process's forkserver, if one runs, and wait for it: its CPU time and its
    workers' (which it waited for) then count in RUSAGE_CHILDREN. A private function of the
    standard library (its own tests use it); without it the workers' CPU would be missed."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # type: ignore[attr-defined]


def _status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MiB (empty when it has gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) / 1024 for k, _, v in (x.partition(":") for x in lines)
            if k in ("VmRSS", "VmHWM")}  # fmt: skip


def floor(directory: Path) -> dict[str, Any]:
    from clotsafe.fhir.bulk.source import export_files, open_lines

    t = time.perf_counter()
    n = 0
    for f in export_files(directory):
        with open_lines(f) as fh:
            for line in fh:
                if line.strip():
                    orjson.loads(line)
                    n += 1
    return {"resources": n, "seconds": time.perf_counter() - t}


def sql(directory: Path, threads: int) -> dict[str, Any]:
    from clotsafe.fhir.bulk.screen_duckdb import DuckDbEngine
    from clotsafe.fhir.bulk.source import export_files

    text = _thread_cpu(DuckDbEngine, ("_take_text", "_write_kept"))
    t = time.perf_counter()
    engine = DuckDbEngine(export_files(directory), threads=threads)
    report = engine.prepare()
    prepared = _cpu_seconds()
    groups = rows = 0
    for g in engine.groups():
        groups += 1
        rows += len(g.rows)
    engine.close()
    return {"seconds": time.perf_counter() - t, "patients": groups, "kept": rows,
            "kept_by_type": report.kept,
            "cpu_text_seconds": round(text["seconds"], 3),
            "cpu_groups_seconds": round(_cpu_seconds() - prepared, 3)}  # fmt: skip


def _thread_cpu(cls: Any, names: tuple[str, ...]) -> dict[str, float]:
    """Wrap the methods ``names`` of ``cls`` to add the CPU time of the thread that runs them
    (``time.thread_time``) to the returned dict's "seconds": how the SQL stage's CPU splits
    between DuckDB's reading and the fetch of the kept lines' text (the latter runs on a
    thread of its own; with one DuckDB thread, DuckDB works on the calling thread)."""
    total = {"seconds": 0.0}

    def timed(method: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                total["seconds"] += time.thread_time() - start

        return run

    for name in names:
        setattr(cls, name, timed(getattr(cls, name)))
    return total


def e2e(directory: Path, engine: str, workers: int, threads: int | None) -> dict[str, Any]:
    from clotsafe.fhir.bulk.screen import ScreenOptions, run_screen
    from clotsafe.fhir.bulk.screen_progress import Progress

    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        options = ScreenOptions(directory, Path(out), ON, engine=engine, workers=workers,
                                threads=threads)  # fmt: skip
        result = run_screen(options, Progress())
        seconds = time.perf_counter() - t
    return {"seconds": seconds, "patients": result.summary["patients"],
            "stages": result.seconds}  # fmt: skip


def one(kind: str, directory: Path) -> dict[str, Any]:
    start = _cpu_seconds()
    with ChildMemory() as kids:
        out = _one(kind, directory)
    _stop_forkserver()
    return {**out, "cpu_seconds": round(_cpu_seconds() - start, 3), **_peak_mib(),
            "peak_mib_worker": round(kids.worker_mib, 1),
            "peak_mib_with_workers": round(kids.total_mib, 1)}  # fmt: skip


def _one(kind: str, directory: Path) -> dict[str, Any]:
    if kind == "floor":
        out = floor(directory)
    elif kind.startswith("sql-"):
        out = sql(directory, int(kind[4:]))
    elif kind == "e2e-1":
        out = e2e(directory, "duckdb", 1, 1)
    elif kind == "e2e-2":
        out = e2e(directory, "duckdb", 2, 2)
    else:
        out = e2e(directory, "spark", 1, None)
    return out


ONE_CORE = ("floor", "sql-1", "e2e-1")


def warm(directory: Path) -> float:
    """Read every file of the export once, untimed, so that each run starts with it in the
    page cache as far as it fits: otherwise the first run (the floor) paid for the disk and
    its ratio moved with what the machine had done before (5.6 against 7.8 s at 10,000
    patients). Returns the seconds it took."""
    t = time.perf_counter()
    for path in sorted(directory.iterdir()):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(8 << 20):
                    pass
    return time.perf_counter() - t


def run(kind: str, directory: Path) -> dict[str, Any]:
    pin = ["taskset", "-c", "0"] if kind in ONE_CORE and shutil.which("taskset") else []
    warmed = warm(directory)
    load = os.getloadavg()[0]
    proc = subprocess.run([*pin, sys.executable, __file__, "--one", kind, "--dir", str(directory)],
                          check=True, capture_output=True)  # fmt: skip
    out = dict(orjson.loads(proc.stdout.splitlines()[-1]))
    return {**out, "pinned": bool(pin), "warm_seconds": round(warmed, 2), "load_before": load,
            "load_after": os.getloadavg()[0]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--one", default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--runs", default="floor,sql-1,sql-2,e2e-1,e2e-2")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of every run, one after the other; the summary gives the "
                         "median of each figure and its range")  # fmt: skip
    a = ap.parse_args()
    if a.one:
        print(orjson.dumps(one(a.one, a.dir)).decode())
        return
    kinds = a.runs.split(",") + (["spark"] if a.spark else [])
    rounds = []
    for r in range(a.repeat):
        res = {}
        for kind in kinds:
            res[kind] = run(kind, a.dir)
            print(f"round {r + 1}", kind, orjson.dumps(res[kind]).decode(), file=sys.stderr,
                  flush=True)  # fmt: skip
        rounds.append(res)
    summaries = [_summary(res, kinds, spark=a.spark) for res in rounds]
    if a.repeat == 1:
        out = {"summary": summaries[0], "runs": rounds[0]}
    else:
        out = {"summary": _median(summaries), "rounds": summaries, "runs": rounds}
    text = orjson.dumps(out, option=orjson.OPT_INDENT_2).decode()
    if a.out:
        a.out.write_text(text + "\n")
    print(text)


def _median(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds, and its lowest and highest (``<name>_range``):
    on this machine one run moves by ±10 % and more, so a figure of one run says little."""
    out: dict[str, Any] = {}
    for key in summaries[0]:
        values = sorted(s[key] for s in summaries if key in s)
        if len(set(values)) == 1:
            out[key] = values[0]
            continue
        out[key] = round(statistics.median(values), 2)
        out[f"{key}_range"] = [values[0], values[-1]]
    return out


def _reading_cpu(run: dict[str, Any]) -> float:
    return float(run["cpu_seconds"] - run["cpu_text_seconds"] - run["cpu_groups_seconds"])


def _summary(res: dict[str, Any], kinds: list[str], *, spark: bool) -> dict[str, Any]:
    """Ratios to the floor of the same run (none without a floor run)."""
    if "floor" not in res:
        return {}
    fl = res["floor"]
    n = fl["resources"]
    sqls = [k for k in kinds if k.startswith("sql-")]
    summary = {
        "resources": n,
        "floor_resources_per_s": round(n / fl["seconds"]),
        **{f"{k}_resources_per_s": round(n / res[k]["seconds"]) for k in sqls},
        **{f"{k}_ratio_to_floor": round(fl["seconds"] / res[k]["seconds"], 2) for k in sqls},
        **{
            f"{k}_patients_per_s": round(res[k]["patients"] / res[k]["seconds"], 1)
            for k in kinds
            if k.startswith(("e2e", "spark"))
        },
        **{f"{k}_peak_mib": res[k]["peak_mib_self"] for k in kinds},
        **{f"{k}_peak_mib_with_workers": res[k]["peak_mib_with_workers"] for k in kinds},
        "floor_cpu_resources_per_s": round(n / fl["cpu_seconds"]),
        **{
            f"{k}_cpu_ratio_to_floor": round(fl["cpu_seconds"] / res[k]["cpu_seconds"], 2)
            for k in sqls
        },
        # the SQL stage's CPU less the fetch of the kept lines' text and the groups (DuckDB's part)
        **{
            f"{k}_cpu_ratio_to_floor_without_text": round(
                fl["cpu_seconds"] / _reading_cpu(res[k]), 2
            )
            for k in sqls
            if "cpu_text_seconds" in res[k]
        },
        **{
            f"{k}_patients_per_cpu_s": round(res[k]["patients"] / res[k]["cpu_seconds"], 1)
            for k in kinds
            if k.startswith(("e2e", "spark"))
        },
    }
    if spark and "e2e-2" in res:
        summary["spark_seconds_over_duckdb"] = round(
            res["spark"]["seconds"] / res["e2e-2"]["seconds"], 2
        )
    return summary


if __name__ == "__main__":
    main()
