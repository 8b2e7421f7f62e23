"""The schema-read plan (``sof.typed``): the rows ``compile_view`` gives, or a clear signal.

Protects: ``bulk screen`` reads most of an export through this faster plan; a resource whose
shape differs from the plan's schema must never be dropped or misread silently (a missed clot
or anticoagulant), so the plan either gives exactly the specification's rows or tells the
caller to take the general way (an error, or a flagged row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_conformance import SPEC, _key, _skip_reason

from clotsafe.fhir.sof import compile_typed_ndjson, duckdb_connect

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (pip install -e '.[bulk]')")

CONDITION_VIEW: dict[str, Any] = {
    "resource": "Condition",
    "select": [
        {"column": [{"name": "id", "path": "id"},
                    {"name": "patient", "path": "subject.reference"}]},
        {"forEachOrNull": "code.coding",
         "column": [{"name": "system", "path": "system"}, {"name": "code", "path": "code"}]},
    ],
}  # fmt: skip


def _typed(view: dict[str, Any], resources: list[Any], tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "r.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in resources))
    sql = compile_typed_ndjson(view, [(3, str(path))], max_line=1 << 20)
    assert sql is not None
    cur = duckdb_connect().execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _conformance_cases() -> list[tuple[str, int]]:
    out = []
    for path in sorted(SPEC.glob("*.json")) if SPEC.is_dir() else []:
        if path.name == "tests.schema.json":
            continue
        data = json.loads(path.read_text())
        for i, test in enumerate(data["tests"]):
            if "resources" in data and "expectError" not in test and not _skip_reason(test):
                out.append((path.name, i))
    return out


def test_the_plan_gives_the_specifications_rows_or_says_it_cannot(tmp_path: Path) -> None:
    """Every conformance test whose view the plan covers: the expected rows, or an error, or
    a flagged row (the caller then runs compile_view); several views are covered."""
    covered = exact = 0
    for file, index in _conformance_cases():
        data = json.loads((SPEC / file).read_text())
        test = data["tests"][index]
        path = tmp_path / f"{file}.ndjson"
        path.write_text("".join(json.dumps(r) + "\n" for r in data["resources"]))
        sql = compile_typed_ndjson(test["view"], [(0, str(path))], max_line=1 << 20)
        if sql is None:
            continue
        covered += 1
        try:
            cur = duckdb_connect().execute(sql)
        except duckdb.Error:
            continue
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        if any(r.pop("__sof_odd") for r in rows):
            continue
        got = [{k: v for k, v in r.items() if k not in ("file", "line")} for r in rows]
        assert sorted(map(_key, got)) == sorted(map(_key, test["expect"])), (file, index)
        exact += 1
    if SPEC.is_dir():
        assert covered >= 10 and exact >= 5, (covered, exact)


def test_rows_carry_the_file_number_and_the_line(tmp_path: Path) -> None:
    """forEachOrNull: one row per coding, one row of NULLs for a Condition without codings."""
    rows = _typed(CONDITION_VIEW, [
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"},
         "code": {"coding": [{"system": "s", "code": "a"}, None, {"code": "b"}]}},
        {"resourceType": "Patient", "id": "p"},
        {"resourceType": "Condition", "id": "c2"},
    ], tmp_path)  # fmt: skip
    assert [(r["file"], r["line"], r["id"], r["patient"], r["system"], r["code"], r["__sof_odd"])
            for r in rows] == [(3, 1, "c1", "Patient/p", "s", "a", False),
                               (3, 1, "c1", "Patient/p", None, "b", False),
                               (3, 3, "c2", None, None, None, False)]  # fmt: skip


def test_an_array_where_the_schema_says_object_stops_the_plan(tmp_path: Path) -> None:
    """``subject`` as an array: DuckDB stops; the caller takes the general way."""
    bad = {"resourceType": "Condition", "id": "c1", "subject": [{"reference": "Patient/p"}]}
    with pytest.raises(duckdb.Error):
        _typed(CONDITION_VIEW, [bad], tmp_path)


def test_several_values_in_a_text_column_are_flagged(tmp_path: Path) -> None:
    """A text column given an array (several values) is flagged, never taken as its text."""
    rows = _typed(CONDITION_VIEW, [
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": ["a", "b"]}},
        {"resourceType": "Condition", "id": "c2", "code": {"coding": [{"code": {"x": 1}}]}},
    ], tmp_path)  # fmt: skip
    assert [r["__sof_odd"] for r in rows] == [True, True]


def test_views_beyond_the_simple_subset_take_the_general_way() -> None:
    """Functions, constants, nested forEach, non-text columns: no plan (None)."""
    base = {"resource": "Patient"}
    assert compile_typed_ndjson(
        {**base, "select": [{"column": [{"name": "n", "path": "name.count()"}]}]}, [(0, "x")],
        max_line=1,
    ) is None  # fmt: skip
    assert compile_typed_ndjson(
        {**base, "select": [{"column": [{"name": "a", "path": "active", "type": "boolean"}]}]},
        [(0, "x")], max_line=1,
    ) is None  # fmt: skip
    both = [{"column": [{"name": "x", "path": "code.coding.code"}]},
            {"forEach": "code.coding", "column": [{"name": "c", "path": "code"}]}]  # fmt: skip
    assert compile_typed_ndjson({"resource": "Condition", "select": both}, [(0, "x")],
                                max_line=1) is None  # fmt: skip
