"""Measure `clotsafe screen --batch` on one core: intakes per second and peak memory.

    python benchmarks/batch.py            # 100,000 intakes (and 10,000 to show memory is flat)

Each run is a separate process pinned to one core (taskset) with output to /dev/null; peak
memory is the child's maximum resident set size. The floor is the same file parsed and
re-serialised with orjson (benchmarks/floor.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def generate(n: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"intakes-{n}.ndjson"
    if not path.exists():
        with path.open("wb") as f:
            subprocess.run(
                [sys.executable, str(HERE / "gen_intakes.py"), str(n)], stdout=f, check=True
            )
    return path


def run(cmd: list[str], stdin: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one child process."""
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    with stdin.open("rb") as f_in, open(os.devnull, "wb") as f_out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=f_in, stdout=f_out)
        _, status, usage = os.wait4(proc.pid, 0)
        dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{cmd} failed")
    return dt, usage.ru_maxrss / 1024


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    clotsafe = [sys.executable, "-m", "clotsafe", "screen", "--batch", "-"]
    floor = [sys.executable, str(HERE / "floor.py")]
    print(f"{'intakes':>8} {'what':<22} {'seconds':>8} {'per second':>11} {'peak MiB':>9}")
    for n in sizes:
        path = generate(n)
        for name, cmd in (("clotsafe screen --batch", clotsafe), ("orjson floor", floor)):
            dt, mib = run(cmd, path)
            print(f"{n:>8} {name:<22} {dt:>8.2f} {n / dt:>11,.0f} {mib:>9.1f}")


if __name__ == "__main__":
    main()
