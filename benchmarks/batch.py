"""Measure `clotsafe screen --batch`: intakes per second, ratio to the in+out floor, peak memory.

    python benchmarks/batch.py                     # 10,000 and 100,000 intakes
    python benchmarks/batch.py 1000000 --fast-only # any sizes; --fast-only skips --reference
    REPEAT=3 python benchmarks/batch.py            # each command 3 times, interleaved; best kept

For every size, in the same run (so the ratios hold on a busy machine):

* ``reference``: `clotsafe screen --batch --reference -` (pydantic validation, Decision.to_json),
  pinned to one core;
* ``fast``: `clotsafe screen --batch -` (the fast path), pinned to one core; its output is kept
  for the floor;
* ``fast, 2 workers``: `--workers 2`, on two cores;
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

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PY = sys.executable
CLOTSAFE = [PY, "-m", "clotsafe", "screen", "--batch"]
NULL = Path(os.devnull)


def generate(n: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"intakes-{n}.ndjson"
    if not path.exists():
        with path.open("wb") as f:
            subprocess.run([PY, str(HERE / "gen_intakes.py"), str(n)], stdout=f, check=True)
    return path


def run(cmd: list[str], stdin: Path | None, stdout: Path | None = None, cores: str = "0"
        ) -> tuple[float, float, bytes]:  # fmt: skip
    """(seconds, peak RSS in MiB, what it wrote if stdout is None and small) of one child."""
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", cores, *cmd]
    f_in = stdin.open("rb") if stdin else open(os.devnull, "rb")  # noqa: SIM115
    f_out = stdout.open("wb") if stdout else subprocess.PIPE
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=f_in, stdout=f_out)
    captured = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    f_in.close()
    if stdout:
        f_out.close()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{cmd} failed")
    return dt, usage.ru_maxrss / 1024, captured[-2000:]


def measure(n: int, fast_only: bool, repeat: int) -> list[tuple[str, float, float, float | None]]:
    """Rows (what, seconds, peak MiB, µs per intake after start-up) for one size: each
    command ``repeat`` times, interleaved, keeping the fastest of each (a busy machine only
    ever makes a run slower)."""
    path = generate(n)
    decisions = OUT / f"decisions-{n}.ndjson"
    best: dict[str, tuple[float, float]] = {}

    def keep(what: str, dt: float, mib: float) -> None:
        if what not in best or dt < best[what][0]:
            best[what] = (dt, mib)

    for _ in range(repeat):
        keep("start-up (imports)", *run([*CLOTSAFE, "-"], None)[:2])
        if not fast_only:
            keep("reference, 1 core", *run([*CLOTSAFE, "--reference", "-"], path, NULL)[:2])
        keep("fast, 1 core", *run([*CLOTSAFE, "-"], path, decisions)[:2])
        keep("fast, 2 workers", *run([*CLOTSAFE, "--workers", "2", "-"], path, NULL, "0,1")[:2])
        _, mib, said = run([PY, str(HERE / "floor.py"), str(path), str(decisions)], None)
        keep("floor (orjson in + out)", json.loads(said)["seconds"], mib)
    startup = best.pop("start-up (imports)")[0]
    rows: list[tuple[str, float, float, float | None]] = []
    for what, (dt, mib) in best.items():
        us = dt / n * 1e6 if what.startswith("floor") else (dt - startup) / n * 1e6
        rows.append((what, dt, mib, us))
    rows.append(("start-up (imports)", startup, 0.0, None))
    return rows


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    fast_only = "--fast-only" in sys.argv
    repeat = int(os.environ.get("REPEAT", "1"))
    sizes = [int(a) for a in args] or [10_000, 100_000]
    print(f"load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    print("| intakes | what | seconds | intakes/s | µs per intake | × floor | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        rows = measure(n, fast_only, repeat)
        floor_us = next(us for what, _, _, us in rows if what.startswith("floor"))
        for what, dt, mib, us in rows:
            rate = f"{n / dt:,.0f}" if us is not None else ""
            per = f"{us:.1f}" if us is not None else ""
            ratio = f"{us / floor_us:.1f}" if us is not None and floor_us else ""
            print(f"| {n:,} | {what} | {dt:.2f} | {rate} | {per} | {ratio} | {mib:.1f} |")


if __name__ == "__main__":
    main()
