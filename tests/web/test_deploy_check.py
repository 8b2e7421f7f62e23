"""``manage.py check --deploy`` with the documented production environment (docs/web.md,
"Running it for real"): no warning is left unexplained in docs/web.md (issue 9 §3).

The check runs in a subprocess, as an operator runs it, so the settings are read from that
environment (HTTPS on, a generated secret key, real allowed hosts, PostgreSQL) and not from the
test settings.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "web.md"
CHECK_ID = re.compile(r"\(?\b(security\.[WE]\d{3})\b")


def _production_env(data_dir: Path) -> dict[str, str]:
    # not the test run's own settings, nor the async switch the browser tests set in this process
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CLOTSAFE_")
           and k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}  # fmt: skip
    env.update({
        "CLOTSAFE_DATA_DIR": str(data_dir),
        "CLOTSAFE_DATABASE_URL": "postgres://clotsafe:not-used@db.internal:5432/clotsafe",
        "CLOTSAFE_SECRET_KEY": secrets.token_urlsafe(50),
        "CLOTSAFE_ALLOWED_HOSTS": "clotsafe.example.org",
        "CLOTSAFE_HTTPS": "1",
        "CLOTSAFE_TRUSTED_PROXIES": "1",
    })  # fmt: skip
    return env


def _documented() -> set[str]:
    """The warning ids in the table of the "manage.py check --deploy" section."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### `manage.py check --deploy`", 1)[1].split("\n#", 1)[0]
    return {m.group(1) for line in section.splitlines() if line.startswith("| `security.")
            for m in [CHECK_ID.search(line)] if m}  # fmt: skip


def test_check_deploy_warns_only_of_what_docs_web_md_explains(tmp_path: Path) -> None:
    """Every deployment warning Django gives for the documented setup is explained (why it is
    left to the operator); a new one, or one fixed since, fails here until the docs say so."""
    run = subprocess.run(
        [sys.executable, "-m", "clotsafe.web.manage", "check", "--deploy"],
        env=_production_env(tmp_path / "data"), cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "ERRORS" not in output
    assert set(CHECK_ID.findall(output)) == _documented(), output


def test_the_documented_table_is_read() -> None:
    """The comparison above is only as good as the parsing of the docs table."""
    assert _documented() and all(CHECK_ID.fullmatch(i) for i in _documented())
