"""Helpers for the ``bulk screen`` tests: exports on disk, the per-patient oracle, the CLI.

The oracle is ``clotsafe screen --fhir BUNDLE --on DATE --format json`` itself, run on a Bundle
of each patient's resources in export order (every resource of the patient, unfiltered, with
the Medications its medicines name).
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from clotsafe.cli import main
from clotsafe.fhir.bulk.source import export_files, open_lines

ROOT = Path(__file__).resolve().parents[3]
SYNTHEA = ROOT / "tests" / "fixtures" / "fhir" / "synthea"
ON = "2026-11-25"
SNOMED = "http://snomed.info/sct"
#: deep vein thrombosis (SNOMED CT), in the code lists: its Condition is kept
DVT = "128053003"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
SPARK_MISSING = [m for m in ("duckdb", "pyspark", "pyarrow", "pandas")
                 if importlib.util.find_spec(m) is None]  # fmt: skip
#: the test needs DuckDB (the bulk extra)
needs_duckdb = pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None,
    reason="bulk screen needs the bulk extra (pip install -e '.[bulk]')",
)
#: the test runs Spark: the bulk extra and Java 17
needs_spark = pytest.mark.skipif(
    bool(SPARK_MISSING) or shutil.which("java") is None,
    reason=f"Spark needs the bulk extra ({', '.join(SPARK_MISSING) or 'here'}) and Java 17",
)


def male_patient(pid: str | None) -> dict[str, Any]:
    """A Patient born in 1960 (no id when ``pid`` is None)."""
    p = {"resourceType": "Patient", "gender": "male", "birthDate": "1960-01-01"}
    return p if pid is None else {**p, "id": pid}


def recent_dvt(rid: str, pid: str) -> dict[str, Any]:
    """An active DVT of the patient ``pid`` diagnosed on 2026-11-10 (a fortnight before ON)."""
    return {"resourceType": "Condition", "id": rid,
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
            "code": {"coding": [{"system": SNOMED, "code": DVT}], "text": "DVT"},
            "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": "2026-11-10"}  # fmt: skip


def generator() -> Any:
    """benchmarks/bulk/generate.py as a module (the fixed-seed export generator)."""
    path = ROOT / "benchmarks" / "bulk" / "generate.py"
    spec = importlib.util.spec_from_file_location("bulk_generate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bulk_generate"] = module
    spec.loader.exec_module(module)
    return module


def write_export(out: Path, resources: Iterable[dict[str, Any]], *, gz: bool = False) -> Path:
    """One ``<Type>.1.ndjson[.gz]`` file per resource type, in the order given."""
    out.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[bytes]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(orjson.dumps(r) + b"\n")
    for kind, lines in by_type.items():
        data = b"".join(lines)
        name = f"{kind}.1.ndjson" + (".gz" if gz else "")
        (out / name).write_bytes(gzip.compress(data) if gz else data)
    (out / "manifest.json").write_bytes(
        orjson.dumps({"transactionTime": "2026-11-25T06:00:00Z", "request": "x", "output": []})
    )
    return out


def bulk_screen(directory: Path, out: Path, *extra: str) -> Any:
    result = CliRunner().invoke(
        main,
        ["bulk", "screen", str(directory), "--on", ON, "--out", str(out), "--progress", "json",
         *extra],
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return result


def decisions(out: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (out / "decisions.ndjson").read_bytes().splitlines()]


def screen_fhir(bundle: dict[str, Any]) -> bytes:
    """``clotsafe screen --fhir - --on ON --format json`` on the Bundle: its stdout."""
    result = CliRunner().invoke(
        main, ["screen", "--fhir", "-", "--on", ON, "--format", "json"], input=orjson.dumps(bundle)
    )
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _patient_key(ref: str) -> str | None:
    for prefix in ("Patient/", "urn:uuid:"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return None


def patient_bundles(directory: Path) -> dict[str, dict[str, Any]]:
    """Patient id -> a Bundle of every resource about that patient, in export order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    medications: dict[str, dict[str, Any]] = {}
    for f in export_files(directory):
        with open_lines(f) as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    r = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if r["resourceType"] == "Patient":
                    groups.setdefault(r["id"], []).append(r)
                elif r["resourceType"] == "Medication":
                    medications[r["id"]] = r
                else:
                    key = _patient_key((r.get("subject") or {}).get("reference", ""))
                    groups.setdefault(str(key), []).append(r)
    out = {}
    for pid, resources in groups.items():
        named = [medications[ref.removeprefix("Medication/")] for r in resources
                 if (ref := (r.get("medicationReference") or {}).get("reference", ""))
                 and ref.removeprefix("Medication/") in medications]  # fmt: skip
        entries = [{"resource": r} for r in resources + named]
        out[pid] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return out


def assert_same_as_screen_fhir(directory: Path, out: Path) -> int:
    """Every patient's ``decision`` is byte-identical to ``screen --fhir`` on its Bundle."""
    lines = {d["patient"]: d for d in decisions(out)}
    bundles = patient_bundles(directory)
    assert sorted(lines) == sorted(f"Patient/{p}" for p in bundles)
    for pid, bundle in bundles.items():
        want = orjson.loads(screen_fhir(bundle))
        got = lines[f"Patient/{pid}"]["decision"]
        assert orjson.dumps(got) == orjson.dumps(want), pid
    return len(bundles)
