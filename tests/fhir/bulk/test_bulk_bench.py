"""benchmarks/bulk/bench.py runs as its README says: rounds, medians, the SQL stage's split.

Only the shape of its output is checked here, on a small export: its figures are measured by
hand (benchmarks/bulk/README.md), never asserted by a test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from test_bulk_screen_support import ROOT, generator

BENCH = ROOT / "benchmarks" / "bulk" / "bench.py"


def test_bench_goes_round_and_gives_medians_and_the_split_of_the_sql_stage(
    tmp_path: Path,
) -> None:
    export = tmp_path / "export"
    generator().generate(export, 20, seed=7)
    out = tmp_path / "result.json"
    subprocess.run(
        [sys.executable, str(BENCH), "--dir", str(export), "--runs", "floor,sql-1",
         "--repeat", "2", "--out", str(out)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    result = orjson.loads(out.read_bytes())
    assert len(result["rounds"]) == len(result["runs"]) == 2
    summary = result["summary"]
    assert summary["resources"] == result["rounds"][0]["resources"] > 0
    ratios = sorted(r["sql-1_ratio_to_floor"] for r in result["rounds"])
    assert ratios[0] <= summary["sql-1_ratio_to_floor"] <= ratios[1]
    assert "sql-1_cpu_ratio_to_floor_without_text" in summary
    for run in result["runs"]:
        sql = run["sql-1"]
        assert sql["patients"] == 20
        assert 0 <= sql["cpu_text_seconds"] <= sql["cpu_seconds"]
        assert 0 <= sql["cpu_groups_seconds"] <= sql["cpu_seconds"]
