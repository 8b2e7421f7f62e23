"""The SQL on FHIR v2 specification's conformance tests, on DuckDB and on Spark.

Protects: the ViewDefinitions that flatten a bulk export for population screening give the rows
the specification says, the same on the laptop engine and the cluster engine — so a patient's
clot history, anticoagulants and events reach the engine unchanged whichever engine ran.

Every test of every file runs on both engines unless it uses a feature listed in ``UNCLAIMED``
(skipped with the reason); claims count ``shareable`` tests only (experimental ones carry
``-experimental`` in their test id). DuckDB runs each view through ``run_duckdb``; Spark
runs each file's row-giving views as one job (and each error test through ``run_spark``). Rows
are compared order-insensitively; ``expectColumns`` is checked in order; ``expectError`` must
raise :class:`SofError`. The tests live outside the repository (``../shared/sql-on-fhir``, or
``$CLOTSAFE_SOF_TESTS``); without them, this module is skipped. Spark needs Java; without it
the Spark half is skipped (fixture in conftest.py).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from clotsafe.fhir.sof import (
    SofError,
    compile_view,
    run_duckdb,
    run_spark,
    spark_source,
    view_columns,
)

ROOT = Path(__file__).resolve().parents[3]
SPEC = Path(os.environ.get("CLOTSAFE_SOF_TESTS", ROOT.parent / "shared" / "sql-on-fhir"))

#: features this compiler does not claim: a test whose view uses one is skipped with the reason
UNCLAIMED: dict[str, str] = {
    "lowBoundary": "lowBoundary()/highBoundary() are not supported",
    "highBoundary": "lowBoundary()/highBoundary() are not supported",
}


def _cases() -> list[Any]:
    if not SPEC.is_dir():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=f"{SPEC} absent"))]
    out = []
    for path in sorted(SPEC.glob("*.json")):
        if path.name == "tests.schema.json":
            continue
        for i, test in enumerate(json.loads(path.read_text())["tests"]):
            for engine in ("duckdb", "spark"):
                marks = []
                reason = _skip_reason(test)
                if reason:
                    marks.append(pytest.mark.skip(reason=reason))
                tag = "" if "shareable" in test.get("tags", []) else "-experimental"
                name = f"{path.stem}[{i}]{tag}-{engine}"
                out.append(pytest.param(path.name, i, engine, marks=marks, id=name))
    return out


def _skip_reason(test: dict[str, Any]) -> str | None:
    """Why a test is skipped: it uses an unclaimed feature. Experimental (not shareable) tests
    of claimed features run too (fn_join's), but count for no claim."""
    text = json.dumps(test["view"])
    for feature, reason in UNCLAIMED.items():
        if f'"{feature}"' in text or f"{feature}(" in text:
            return reason
    return None


@pytest.fixture(scope="module")
def ndjson(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each spec file's resources as one NDJSON file."""
    out: dict[str, Path] = {}
    tmp = tmp_path_factory.mktemp("sof")
    for path in sorted(SPEC.glob("*.json")) if SPEC.is_dir() else []:
        data = json.loads(path.read_text())
        if "resources" not in data:
            continue
        target = tmp / f"{path.stem}.ndjson"
        target.write_text("".join(json.dumps(r) + "\n" for r in data["resources"]))
        out[path.name] = target
    return out


def _norm(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        rounded = round(value, 9)
        return int(rounded) if rounded == int(rounded) else rounded
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def _key(row: dict[str, Any]) -> str:
    return json.dumps(_norm(row), sort_keys=True)


def _run(engine: str, view: dict[str, Any], path: Path, request: pytest.FixtureRequest) -> Any:
    if engine == "duckdb":
        pytest.importorskip("duckdb", reason="duckdb is not installed (pip install -e '.[bulk]')")
        return run_duckdb({"v": view}, [path])["v"]
    return run_spark({"v": view}, [path], request.getfixturevalue("spark"))["v"]


@pytest.fixture(scope="module")
def spark_batches() -> dict[str, dict[int, list[dict[str, Any]]]]:
    """Per spec file, the rows of its row-giving tests from ONE Spark job (a UNION ALL of the
    compiled views, each row as JSON), so the Spark half costs one job per file, not per test."""
    return {}


def _spark_batch(file: str, path: Path, spark: Any) -> dict[int, list[dict[str, Any]]]:
    tests = json.loads((SPEC / file).read_text())["tests"]
    source = spark_source(spark, [path], "__sof_conformance")
    parts = []
    for i, test in enumerate(tests):
        if "expectError" in test or _skip_reason(test):
            continue
        sql = compile_view(test["view"], dialect="spark", source=source)
        parts.append(
            f"SELECT {i} AS t, to_json(struct(*), map('ignoreNullFields', 'false')) AS row "
            f"FROM ({sql}) AS q{i}"
        )
    out: dict[int, list[dict[str, Any]]] = {}
    for t, row in spark.sql(" UNION ALL ".join(parts)).collect() if parts else []:
        out.setdefault(t, []).append(json.loads(row))
    return out


def _rows(
    engine: str, file: str, index: int, path: Path, request: pytest.FixtureRequest
) -> list[dict[str, Any]]:
    """The test's rows: DuckDB view by view (run_duckdb); Spark from the file's batch."""
    view = json.loads((SPEC / file).read_text())["tests"][index]["view"]
    if engine == "duckdb":
        rows: list[dict[str, Any]] = _run(engine, view, path, request)
        return rows
    batches: dict[str, dict[int, list[dict[str, Any]]]] = request.getfixturevalue("spark_batches")
    if file not in batches:
        batches[file] = _spark_batch(file, path, request.getfixturevalue("spark"))
    return batches[file].get(index, [])


@pytest.mark.parametrize(("file", "index", "engine"), _cases())
def test_conformance(
    file: str, index: int, engine: str, ndjson: dict[str, Path], request: pytest.FixtureRequest
) -> None:
    """The view gives exactly the specification's rows (or its error) on this engine."""
    test = json.loads((SPEC / file).read_text())["tests"][index]
    view = test["view"]
    if "expectError" in test:
        with pytest.raises(SofError):
            _run(engine, view, ndjson[file], request)
        return
    rows = _rows(engine, file, index, ndjson[file], request)
    if "expectColumns" in test:
        assert view_columns(view) == test["expectColumns"]
        assert all(list(r) == test["expectColumns"] for r in rows)
    assert sorted(map(_key, rows)) == sorted(map(_key, test["expect"]))
