"""benchmarks/web/loadfault.py keeps working: a tiny bound on SQLite (one kill -9, a few
seconds). No figure is asserted (speed lives in benchmarks/web/README.md); what is checked is
that the run happens, the server comes back after the kill, and no acknowledged write is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "web" / "loadfault.py"


def test_load_with_one_kill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """Intake writes acknowledged before or after a kill -9 of the server are all stored."""
    out = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOTSAFE_")}
    argv = [sys.executable, str(SCRIPT), "--seconds", "8", "--kills", "1", "--links", "10",
            "--intake-workers", "2", "--json", str(out)]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["database"] == "sqlite"
    assert len(report["kills"]) == 1
    assert report["requests"]["intake step (POST)"]["answered_ok"] > 0
    writes = report["writes"]
    assert writes["intake_steps"]["acknowledged"] > 0
    assert all(w.get("lost", 0) == 0 for w in writes.values()), writes
    assert report["api"].startswith(("used", "skipped"))
