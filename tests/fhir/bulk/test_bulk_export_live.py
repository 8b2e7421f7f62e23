"""``clotsafe bulk export`` then ``clotsafe bulk screen``, as a program runs them: the commands in
processes of their own, against a Bulk Data server on a real socket (``bulk_live``).

Protects what the in-process tests cannot see: the command's own HTTP client on real
connections (SMART token, kick-off, ``Retry-After`` waited for on the real clock, a file sent
with ``Content-Encoding: gzip``, a transfer cut half-way and fetched again), that no secret
reaches the terminal or the export directory, and that an export fetched this way screens to
the decisions of the same files screened where they lie.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from bulk_fake import BASE, CLIENT_ID, STATUS, FakeBulkServer, ServedFile, gz
from bulk_live import RealClock, live
from test_bulk_screen_support import ON, bulk_screen, generator

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None,
    reason="bulk screen needs the bulk extra (pip install -e '.[bulk]')",
)


def clotsafe(*args: str) -> subprocess.CompletedProcess[str]:
    """The ``clotsafe`` command in a process of its own (``python -m clotsafe``)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "clotsafe", *args], capture_output=True,
                          text=True, timeout=120, env=env)  # fmt: skip


def served(source: Path) -> list[ServedFile]:
    """The files of ``source`` as an EHR serves them: the Patients compressed on the wire
    (``Content-Encoding: gzip``), the Conditions' transfer dropped half-way the first time."""
    files = []
    for path in sorted(source.glob("*.ndjson")):
        kind = path.name.split(".")[0]
        body = path.read_bytes()
        url = f"{BASE}/files/{path.name}"
        f = ServedFile("output", kind, url, body, body.count(b"\n"))
        if kind == "Patient":
            f.body, f.headers = gz(body), {"Content-Encoding": "gzip"}
        if kind == "Condition":
            f.break_times = 1
        files.append(f)
    return files


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A generated 20-patient export (one file per type), as the EHR holds it."""
    directory = tmp_path / "ehr"
    generator().generate(directory, 20, seed=20, part_lines=1_000_000)
    return directory


def test_an_export_fetched_over_real_connections_screens_as_the_files_where_they_lie(
    tmp_path: Path, source: Path, rsa_key: Any, rsa_pem: Path
) -> None:
    waiting = (202, {"X-Progress": "50% done", "Retry-After": "1"})
    fake = FakeBulkServer(RealClock(), rsa_key.public_key(), files=served(source),
                          status_script=[waiting])  # fmt: skip
    out = tmp_path / "export"
    with live(fake) as server:
        fake.token_audience = server.url(fake.smart["token_endpoint"])
        done = clotsafe("bulk", "export", "--fhir-server", server.url(BASE), "--group", "g1",
                        "--client-id", CLIENT_ID, "--key", str(rsa_pem), "--kid", "rsa-key-1",
                        "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "50% done" in done.stderr

    # every file as the EHR holds it, the Patients decoded from the wire's gzip, the
    # Conditions whole after the cut transfer was fetched again
    names = sorted(p.name for p in source.glob("*.ndjson"))
    assert sorted(p.name for p in out.glob("*.ndjson")) == names
    for name in names:
        assert (out / name).read_bytes() == (source / name).read_bytes(), name
    gets = fake.file_gets()
    assert gets.count(f"{BASE}/files/Condition.1.ndjson") == 2
    assert gets.count(f"{BASE}/files/Patient.1.ndjson") == 1
    assert fake.requests[-1].method == "DELETE" and str(fake.requests[-1].url) == STATUS
    assert json.loads((out / "export.json").read_text())["complete"] is True

    # no secret on the terminal or on disk: the tokens issued, the client assertions sent
    secrets = [*fake.issued, *fake.assertions]
    assert secrets
    written = b"".join(p.read_bytes() for p in out.iterdir())
    for secret in secrets:
        assert secret not in done.stdout + done.stderr
        assert secret.encode() not in written

    # the fetched export screens to the decisions of the EHR's own files
    bulk_screen(out, tmp_path / "fetched")
    bulk_screen(source, tmp_path / "local")
    fetched = (tmp_path / "fetched" / "decisions.ndjson").read_bytes()
    assert fetched == (tmp_path / "local" / "decisions.ndjson").read_bytes()
    assert len(fetched.splitlines()) == 20
    assert orjson.loads(fetched.splitlines()[0])["decision"]["screened_on"] == ON
