"""Speed of a compiled view against the orjson parse floor (not a test: run it by hand).

    .venv/bin/python tests/fhir/sof/bench_sof.py [N] [--spark]

Writes N (default 100,000) fixed-seed Condition resources (about 0.9 KB each, shaped like
Synthea's) to a temporary NDJSON file, times ``orjson.loads`` of every line (one core, the
floor), then the screening-shaped view below on DuckDB with 1 and 2 threads (and on Spark
``local[2]`` with ``--spark``), each counting its rows. Prints resources/s and the ratio to the
floor (above 1: faster than merely parsing the file in Python).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from clotsafe.fhir.sof import compile_view, duckdb_connect, duckdb_source

VIEW: dict[str, Any] = {
    "resource": "Condition",
    "select": [
        {"column": [
            {"name": "id", "path": "getResourceKey()"},
            {"name": "patient", "path": "subject.getReferenceKey(Patient)"},
            {"name": "clinical", "path": "clinicalStatus.coding.code.first()"},
            {"name": "onset", "path": "onset.ofType(dateTime)"},
            {"name": "recorded", "path": "recordedDate"},
        ]},
        {"forEach": "code.coding", "column": [
            {"name": "system", "path": "system"}, {"name": "code", "path": "code"},
        ]},
    ],
    "where": [{"path": "verificationStatus.coding.where(code = 'entered-in-error').empty()"}],
}  # fmt: skip


def _condition(rng: random.Random, i: int) -> dict[str, Any]:
    status = rng.choice(["active", "resolved"])
    return {
        "resourceType": "Condition", "id": f"c{i}",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                       "condition-clinical", "code": status}]},
        "verificationStatus": {"coding": [{"code": rng.choice(["confirmed", "entered-in-error"])}]},
        "category": [{"coding": [{"code": "encounter-diagnosis", "display": "Encounter Dx"}]}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": str(rng.randint(1, 10**6)),
                             "display": "A condition with a reasonably long display text"}],
                 "text": "A condition"},
        "subject": {"reference": f"urn:uuid:p{i % 10_000}"},
        "encounter": {"reference": f"urn:uuid:e{i}"},
        "onsetDateTime": "2019-03-04T10:11:12-05:00", "recordedDate": "2019-03-04T10:11:12-05:00",
    }  # fmt: skip


def main(n: int, spark: bool) -> None:
    """Write the file, time the floor and the engines, print the figures."""
    rng = random.Random(20261130)
    path = Path(tempfile.mkdtemp()) / "Condition.ndjson"
    with path.open("wb") as out:
        for i in range(n):
            out.write(orjson.dumps(_condition(rng, i)) + b"\n")
    start = time.perf_counter()
    with path.open("rb") as lines:
        for line in lines:
            orjson.loads(line)
    floor = time.perf_counter() - start
    print(f"{n} resources, {path.stat().st_size / 1e6:.0f} MB; orjson floor {floor:.2f} s "
          f"({n / floor:,.0f}/s)")  # fmt: skip
    for threads in (1, 2):
        con = duckdb_connect(threads=threads)
        sql = compile_view(VIEW, dialect="duckdb", source=duckdb_source(con, [path], "src"))
        start = time.perf_counter()
        rows = con.sql(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
        took = time.perf_counter() - start
        print(f"duckdb threads={threads}: {took:.2f} s, {n / took:,.0f} resources/s, "
              f"{floor / took:.2f}x the floor ({rows} rows)")  # fmt: skip
    if spark:
        from clotsafe.fhir.sof import spark_session, spark_source

        session = spark_session()
        session.sparkContext.setLogLevel("ERROR")
        sql = compile_view(VIEW, dialect="spark", source=spark_source(session, [path], "src"))
        start = time.perf_counter()
        rows = session.sql(f"SELECT count(*) FROM ({sql})").collect()[0][0]
        took = time.perf_counter() - start
        print(f"spark local[2]: {took:.2f} s, {n / took:,.0f} resources/s ({rows} rows)")
        session.stop()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 100_000, "--spark" in sys.argv)
