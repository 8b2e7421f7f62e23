"""Measure `clotsafe screen --batch`: intakes per second, ratio to the in+out floor, peak memory.

    python benchmarks/batch.py                     # 10,000 and 100,000 intakes
    python benchmarks/batch.py 1000000 --fast-only # any sizes; --fast-only skips --reference
    REPEAT=3 python benchmarks/batch.py            # each command 3 times, interleaved; best kept

For every size, in the same run (so the ratios hold on a busy machine):

* ``reference``: `clotsafe screen --batch --reference -` (pydantic validation, Decision.to_json),
  pinned to one core;
* ``fast [python]``: `clotsafe screen --batch -` (the fast path) with
  ``CLOTSAFE_PURE_PYTHON=1``, pinned to one core; its output is kept for the floor;
* ``fast [mypyc]``: the same with the mypyc build of the compiled evaluator
  (``benchmarks/build_compiled.py``), when there is a current one;
* ``…, 2 workers``: `--workers 2`, on two cores;
* ``floor``: benchmarks/floor.py, one core: orjson parse of each input line and orjson dump of
  its real decision, nothing else;
* start-up: the fast command on an empty input (imports), subtracted in the µs-per-intake column.

Each run is a separate process with output to /dev/null (or the decisions file); peak memory is
that process's maximum resident set size (for --workers, the parent's; each worker is about the
size of a one-core run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from clotsafe.rules.fastbatch import evaluator_class, is_native

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PY = sys.executable
CLOTSAFE = [PY, "-m", "clotsafe", "screen", "--batch"]
NULL = Path(os.devnull)
#: a mypyc build of the compiled evaluator is there, built from the current sources
NATIVE = is_native(evaluator_class())


def generate(n: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"intakes-{n}.ndjson"
    if not path.exists():
        with path.open("wb") as f:
            subprocess.run([PY, str(HERE / "gen_intakes.py"), str(n)], stdout=f, check=True)
    return path


def run(cmd: list[str], stdin: Path | None, stdout: Path | None = None, cores: str = "0",
        pure: bool = False) -> tuple[float, float, float, bytes]:  # fmt: skip
    """(wall seconds, CPU seconds, peak RSS in MiB, what it wrote if stdout is None and small)
    of one child (CPU: user + system of it and of the workers it waited for); ``pure``: with
    CLOTSAFE_PURE_PYTHON=1 (no mypyc build)."""
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", cores, *cmd]
    f_in = stdin.open("rb") if stdin else open(os.devnull, "rb")  # noqa: SIM115
    f_out = stdout.open("wb") if stdout else subprocess.PIPE
    t0 = time.perf_counter()
    env = {**os.environ, "CLOTSAFE_PURE_PYTHON": "1"} if pure else None
    proc = subprocess.Popen(cmd, stdin=f_in, stdout=f_out, env=env)
    captured = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    f_in.close()
    if stdout:
        f_out.close()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{cmd} failed")
    cpu = usage.ru_utime + usage.ru_stime
    return dt, cpu, usage.ru_maxrss / 1024, captured[-2000:]


#: one row: (what, wall seconds, CPU seconds, peak MiB)
Row = tuple[str, float, float, float]


def measure(n: int, fast_only: bool, repeat: int) -> list[Row]:
    """The rows of one size: each command ``repeat`` times, interleaved, keeping the least wall
    and the least CPU time of each (a busy machine only ever makes a run slower)."""
    path = generate(n)
    decisions = OUT / f"decisions-{n}.ndjson"
    best: dict[str, Row] = {}

    def keep(what: str, wall: float, cpu: float, mib: float, _: bytes = b"") -> None:
        old = best.get(what, (what, wall, cpu, mib))
        best[what] = (what, min(wall, old[1]), min(cpu, old[2]), max(mib, old[3]))

    two = [*CLOTSAFE, "--workers", "2", "-"]
    for _ in range(repeat):
        keep("start-up (imports)", *run([*CLOTSAFE, "-"], None))
        if not fast_only:
            keep("reference, 1 core", *run([*CLOTSAFE, "--reference", "-"], path, NULL))
        keep("fast [python], 1 core", *run([*CLOTSAFE, "-"], path, decisions, pure=True))
        keep("fast [python], 2 workers", *run(two, path, NULL, "0,1", pure=True))
        if NATIVE:
            keep("fast [mypyc], 1 core", *run([*CLOTSAFE, "-"], path, NULL))
            keep("fast [mypyc], 2 workers", *run(two, path, NULL, "0,1"))
        _, _, mib, said = run([PY, str(HERE / "floor.py"), str(path), str(decisions)], None)
        timed = json.loads(said)
        keep("floor (orjson in + out)", timed["seconds"], timed["cpu"], mib)
    return list(best.values())


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    fast_only = "--fast-only" in sys.argv
    repeat = int(os.environ.get("REPEAT", "1"))
    sizes = [int(a) for a in args] or [10_000, 100_000]
    print(f"load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    print("| intakes | what | wall s | CPU s | intakes/s | µs per intake | × floor | peak MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        rows = measure(n, fast_only, repeat)
        start = next(r for r in rows if r[0].startswith("start-up"))
        floor = next(r for r in rows if r[0].startswith("floor"))
        floor_us = floor[2] / n * 1e6
        for what, wall, cpu, mib in rows:
            if what.startswith("start-up"):
                print(f"| {n:,} | {what} | {wall:.2f} | {cpu:.2f} |  |  |  | {mib:.1f} |")
                continue
            # one core: CPU time (a shared core's waiting left out); 2 workers: wall time;
            # both after the start-up, which the floor has not
            seconds = wall - start[1] if "workers" in what else cpu - start[2]
            seconds = cpu if what.startswith("floor") else seconds
            us = seconds / n * 1e6
            print(f"| {n:,} | {what} | {wall:.2f} | {cpu:.2f} | {n / seconds:,.0f} | {us:.1f} "
                  f"| {us / floor_us:.1f} | {mib:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
