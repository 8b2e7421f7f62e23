"""The runners: NDJSON (gzip or not) into DuckDB and Spark, the same rows from both, offline.

Protects: the screening path flattens a hospital's export identically on a laptop (DuckDB) and
on a cluster (Spark) — the same anticoagulants, clot conditions and their patients — and never
reaches the network at run time (a clinic's machine may have none, and must not fetch code).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from clotsafe.fhir.sof import (
    SofError,
    compile_view,
    duckdb_connect,
    run_duckdb,
    run_spark,
)

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (pip install -e '.[bulk]')")

PATIENTS = [
    {"resourceType": "Patient", "id": "p1", "birthDate": "1950-02-03",
     "name": [{"family": "Ng", "given": ["Ann", "B"]}, {"family": "Old"}]},
    {"resourceType": "Patient", "id": "p2", "active": False},
]  # fmt: skip
CONDITIONS = [
    {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
     "code": {"coding": [{"system": "http://snomed.info/sct", "code": "128053003"},
                         {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I82.401"}]},
     "clinicalStatus": {"coding": [{"code": "active"}]},
     "onsetDateTime": "2026-10-01"},
    {"resourceType": "Condition", "id": "c2", "subject": {"reference": "urn:uuid:p2"},
     "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
     "verificationStatus": {"coding": [{"code": "entered-in-error"}]},
     "onsetPeriod": {"start": "2020-01-01"}},
    {"resourceType": "Condition", "id": "c3", "subject": {"reference": "Group/g1"},
     "code": {"coding": [{"system": "http://snomed.info/sct", "code": "128053003"}]}},
]  # fmt: skip
CONDITION_VIEW: dict[str, Any] = {
    "resource": "Condition",
    "select": [
        {"column": [
            {"name": "id", "path": "getResourceKey()"},
            {"name": "patient", "path": "subject.getReferenceKey(Patient)"},
            {"name": "onset", "path": "onset.ofType(dateTime)"},
            {"name": "onset_start", "path": "onset.ofType(Period).start"},
            {"name": "active", "path": "clinicalStatus.coding.where(code = 'active').exists()",
             "type": "boolean"},
        ]},
        {"forEach": "code.coding.where(code in %clot_codes)",
         "column": [{"name": "code", "path": "code"}, {"name": "system", "path": "system"}]},
    ],
    "where": [{"path": "verificationStatus.coding.where(code = 'entered-in-error').empty()"}],
}  # fmt: skip
CONSTANTS = {"clot_codes": ("128053003", "I82.401")}
EXPECTED = [
    {"id": "c1", "patient": "p1", "onset": "2026-10-01", "onset_start": None, "active": True,
     "code": "128053003", "system": "http://snomed.info/sct"},
    {"id": "c1", "patient": "p1", "onset": "2026-10-01", "onset_start": None, "active": True,
     "code": "I82.401", "system": "http://hl7.org/fhir/sid/icd-10-cm"},
    {"id": "c3", "patient": None, "onset": None, "onset_start": None, "active": False,
     "code": "128053003", "system": "http://snomed.info/sct"},
]  # fmt: skip
PATIENT_VIEW: dict[str, Any] = {
    "resource": "Patient",
    "select": [{"column": [
        {"name": "id", "path": "id"},
        {"name": "given", "path": "name.first().given", "collection": True},
        {"name": "names", "path": "name.count()", "type": "integer"},
    ]}],
}  # fmt: skip


@pytest.fixture
def export(tmp_path: Path) -> dict[str, list[Path]]:
    """A tiny export: Patient as plain NDJSON, Condition gzipped (with a blank last line)."""
    patients = tmp_path / "Patient.ndjson"
    patients.write_text("".join(json.dumps(r) + "\n" for r in PATIENTS))
    conditions = tmp_path / "Condition.ndjson.gz"
    with gzip.open(conditions, "wt") as out:
        out.write("".join(json.dumps(r) + "\n" for r in CONDITIONS))
    return {"Patient": [patients], "Condition": [conditions]}


def _sorted(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def _run_both(engine: str, export: dict[str, list[Path]], request: pytest.FixtureRequest) -> Any:
    views = {"conditions": CONDITION_VIEW, "patients": PATIENT_VIEW}
    if engine == "duckdb":
        return run_duckdb(views, export, constants=CONSTANTS)
    return run_spark(views, export, request.getfixturevalue("spark"), constants=CONSTANTS)


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_rows_from_gzip_and_plain_files(
    engine: str, export: dict[str, list[Path]], request: pytest.FixtureRequest
) -> None:
    """Code-list filtering, choice types, reference keys, entered-in-error dropped; both engines."""
    out = _run_both(engine, export, request)
    assert _sorted(out["conditions"]) == _sorted(EXPECTED)
    assert list(out["conditions"][0]) == ["id", "patient", "onset", "onset_start", "active",
                                          "code", "system"]  # fmt: skip
    assert _sorted(out["patients"]) == _sorted(
        [{"id": "p1", "given": ["Ann", "B"], "names": 2}, {"id": "p2", "given": [], "names": 0}]
    )


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_several_values_without_collection_is_an_error(
    engine: str, export: dict[str, list[Path]], request: pytest.FixtureRequest
) -> None:
    """A column that would silently keep one of two names is refused when the query runs."""
    view = {"resource": "Patient", "select": [{"column": [{"name": "f", "path": "name.family"}]}]}
    with pytest.raises(SofError) as err:
        if engine == "duckdb":
            run_duckdb({"v": view}, export)
        else:
            run_spark({"v": view}, export, request.getfixturevalue("spark"))
    assert err.value.code == "sof_not_collection"


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_in_with_several_values_is_an_error(
    engine: str, export: dict[str, list[Path]], request: pytest.FixtureRequest
) -> None:
    """``code.coding.code in %codes`` must not test only the first coding (c1's clot code is its
    second): the query fails and says to use where(...).exists()."""
    view = {"resource": "Condition", "select": [{"column": [{"name": "id", "path": "id"}]}],
            "where": [{"path": "code.coding.code in %clot_codes"}]}  # fmt: skip
    with pytest.raises(SofError) as err:
        if engine == "duckdb":
            run_duckdb({"v": view}, export, constants={"clot_codes": ("I82.401",)})
        else:
            spark = request.getfixturevalue("spark")
            run_spark({"v": view}, export, spark, constants={"clot_codes": ("I82.401",)})
    assert err.value.code == "sof_not_single"


def test_one_list_of_files_for_every_view(export: dict[str, list[Path]]) -> None:
    """A plain list of files works too: each view keeps its own resource type."""
    files = export["Patient"] + export["Condition"]
    out = run_duckdb({"p": PATIENT_VIEW}, files)
    assert sorted(r["id"] for r in out["p"]) == ["p1", "p2"]


def test_duckdb_connection_is_bounded_and_offline(tmp_path: Path) -> None:
    """Memory limited, spilling to a temp directory, no extension installed or auto-loaded; the
    JSON functions the SQL uses are the statically linked ones."""
    con = duckdb_connect(memory_limit="256MB", temp_directory=tmp_path / "spill")
    settings = dict(
        con.sql(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit', "
            "'temp_directory', 'autoinstall_known_extensions', 'autoload_known_extensions')"
        ).fetchall()
    )
    assert settings["autoinstall_known_extensions"] == "false"
    assert settings["autoload_known_extensions"] == "false"
    assert settings["temp_directory"] == str(tmp_path / "spill")
    assert settings["memory_limit"].startswith("244")  # 256 MB in MiB
    # the spilled rows are patient data: the directory is its owner's only
    assert (tmp_path / "spill").stat().st_mode & 0o777 == 0o700
    mode = con.sql("SELECT install_mode FROM duckdb_extensions() WHERE extension_name = 'json'")
    assert mode.fetchall() == [("STATICALLY_LINKED",)]
    sql = compile_view(CONDITION_VIEW, dialect="duckdb", source="src", constants=CONSTANTS)
    assert "INSTALL" not in sql.upper().replace("_INSTALL", "")


def test_repeat_deeper_than_unrolled_is_an_error(tmp_path: Path) -> None:
    """repeat follows 8 levels; a ninth fails the query instead of silently dropping items."""
    eighth: dict[str, Any] = {"linkId": "8", "item": [{"linkId": "9"}]}
    item = eighth
    for level in range(7, 0, -1):
        item = {"linkId": str(level), "item": [item]}
    path = tmp_path / "QuestionnaireResponse.ndjson"
    resource = {"resourceType": "QuestionnaireResponse", "id": "q", "item": [item]}
    path.write_text(json.dumps(resource))
    column = {"name": "link", "path": "linkId"}
    view = {
        "resource": "QuestionnaireResponse",
        "select": [{"repeat": ["item"], "column": [column]}],
    }
    with pytest.raises(SofError) as err:
        run_duckdb({"v": view}, [path])
    assert err.value.code == "sof_repeat_too_deep"
    del eighth["item"]  # the ninth level removed: eight levels are read in full
    path.write_text(json.dumps(resource))
    assert [r["link"] for r in run_duckdb({"v": view}, [path])["v"]] == [
        str(n) for n in range(1, 9)
    ]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_carried_columns_come_first_and_unchanged(engine: str, request: pytest.FixtureRequest
                                                  ) -> None:  # fmt: skip
    """``carry``: the source's own columns (bulk screen's file and line) come out as they are,
    on every row of the resource, so a kept row names the line it was read from."""
    rows = [(7, i + 1, json.dumps(c)) for i, c in enumerate(CONDITIONS)]
    coded = {"forEachOrNull": "code.coding", "column": [{"name": "code", "path": "code"}]}
    view = {"resource": "Condition", "select": [{"column": [{"name": "id", "path": "id"}]}, coded]}
    dialect = "duckdb" if engine == "duckdb" else "spark"
    sql = compile_view(view, dialect=dialect, source="src", carry=("file", "line"))
    if engine == "duckdb":
        con = duckdb_connect()
        con.execute("CREATE TABLE src (file INTEGER, line BIGINT, resource VARCHAR)")
        con.executemany("INSERT INTO src VALUES (?, ?, ?)", rows)
        got = sorted(con.execute(sql).fetchall())
    else:
        spark = request.getfixturevalue("spark")
        spark.createDataFrame(rows, "file int, line bigint, resource string"
                              ).createOrReplaceTempView("src")  # fmt: skip
        got = sorted(tuple(r) for r in spark.sql(sql).collect())
    assert got == [(7, 1, "c1", "128053003"), (7, 1, "c1", "I82.401"),
                   (7, 2, "c2", "38341003"), (7, 3, "c3", "128053003")]  # fmt: skip
