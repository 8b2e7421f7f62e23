"""Run compiled views on DuckDB (embedded) or Spark, over NDJSON files (gzip or not).

``duckdb`` and ``pyspark`` are the optional extra ``bulk`` and are imported only here, only
when called. Nothing is downloaded: DuckDB's JSON reader is built into its wheel (extension
auto-install and auto-load are switched off), and the Spark session asks for no packages.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clotsafe.fhir.sof.compiler import compile_parsed
from clotsafe.fhir.sof.dialect import DIALECTS
from clotsafe.fhir.sof.errors import SofError
from clotsafe.fhir.sof.view import ConstantValue, read_view

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import SparkSession

Paths = Sequence[str | os.PathLike[str]] | Mapping[str, Sequence[str | os.PathLike[str]]]
Rows = list[dict[str, Any]]
_CODE = re.compile(r"\[(sof_[a-z_]+)\]")

#: DuckDB defaults: bounded memory, spilling to disk, nothing fetched from the network
DUCKDB_MEMORY_LIMIT = "512MB"


def duckdb_connect(
    database: str = ":memory:",
    *,
    memory_limit: str = DUCKDB_MEMORY_LIMIT,
    temp_directory: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that spills rather than grows and never installs an extension.

    ``temp_directory`` defaults to ``<system temp>/clotsafe-duckdb``.
    """
    import duckdb

    temp = Path(temp_directory or Path(tempfile.gettempdir()) / "clotsafe-duckdb")
    # what DuckDB spills there is patient data: a directory it creates is its owner's only
    temp.mkdir(parents=True, exist_ok=True, mode=0o700)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": str(temp),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    return duckdb.connect(database, config=config)


def _by_type(paths: Paths, resource: str) -> list[str]:
    if isinstance(paths, Mapping):
        return [os.fspath(p) for p in paths.get(resource, ())]
    return [os.fspath(p) for p in paths]


def duckdb_source(
    con: duckdb.DuckDBPyConnection, paths: Iterable[str | os.PathLike[str]], name: str
) -> str:
    """Create (or replace) the temporary view ``name``: one row per NDJSON line, column
    ``resource`` (JSON), read with ``read_json_objects`` (gzip detected by extension)."""
    files = [os.fspath(p) for p in paths]
    dialect = DIALECTS["duckdb"]
    listed = "[" + ", ".join(dialect.string(f) for f in files) + "]"
    body = (
        f"SELECT json AS resource FROM read_json_objects({listed}, "
        "format = 'newline_delimited', compression = 'auto')"
        if files
        else "SELECT CAST(NULL AS JSON) AS resource WHERE FALSE"
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {dialect.ident(name)} AS {body}")
    return dialect.ident(name)


def _engine_error(exc: Exception) -> SofError:
    text = str(exc)
    match = _CODE.search(text)
    code = match.group(1) if match else "sof_engine_error"
    message = text.splitlines()[0] if text else type(exc).__name__
    if match:
        for line in text.splitlines():
            if match.group(0) in line:
                message = line
                break
    return SofError(code, message[:500])


def run_duckdb(
    views: Mapping[str, Mapping[str, Any]],
    ndjson_paths: Paths,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    constants: Mapping[str, ConstantValue] | None = None,
) -> dict[str, Rows]:
    """Each view's rows (dicts in column order) over NDJSON files, on DuckDB.

    ``views`` maps a name of your choice to a ViewDefinition. ``ndjson_paths`` is a list of
    files (every view reads all, keeping its resource type) or a mapping resource type -> files
    (each view reads only its type's files). ``con`` defaults to :func:`duckdb_connect`.
    """
    import duckdb

    con = con or duckdb_connect()
    out: dict[str, Rows] = {}
    for i, (name, raw) in enumerate(views.items()):
        view = read_view(raw)
        source = duckdb_source(con, _by_type(ndjson_paths, view.resource), f"__sof_src{i}")
        sql = compile_parsed(view, DIALECTS["duckdb"], source, dict(constants or {}))
        try:
            rel = con.sql(sql)
            names = list(rel.columns)
            out[name] = [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
        except duckdb.Error as exc:
            raise _engine_error(exc) from exc
    return out


def spark_session(master: str = "local[2]", app_name: str = "clotsafe-sof") -> SparkSession:
    """A small Spark session for tests and laptops: no UI, 2 shuffle partitions, no packages."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def spark_source(spark: SparkSession, paths: Iterable[str | os.PathLike[str]], name: str) -> str:
    """Create (or replace) the temporary view ``name``: one row per non-blank NDJSON line,
    column ``resource`` (STRING), read with ``spark.read.text`` (gzip detected by extension)."""
    files = [os.fspath(p) for p in paths]
    if files:
        frame = spark.read.text(files).selectExpr("value AS resource").where("trim(resource) <> ''")
    else:
        frame = spark.sql("SELECT CAST(NULL AS STRING) AS resource WHERE FALSE")
    frame.createOrReplaceTempView(name)
    return DIALECTS["spark"].ident(name)


def run_spark(
    views: Mapping[str, Mapping[str, Any]],
    paths: Paths,
    spark: SparkSession,
    *,
    constants: Mapping[str, ConstantValue] | None = None,
) -> dict[str, Rows]:
    """Each view's rows (dicts in column order) over NDJSON files, on Spark (as run_duckdb)."""
    out: dict[str, Rows] = {}
    for i, (name, raw) in enumerate(views.items()):
        view = read_view(raw)
        source = spark_source(spark, _by_type(paths, view.resource), f"__sof_src{i}")
        sql = compile_parsed(view, DIALECTS["spark"], source, dict(constants or {}))
        try:
            out[name] = [row.asDict(recursive=True) for row in spark.sql(sql).collect()]
        except Exception as exc:  # py4j/pyspark raise several unrelated classes
            raise _engine_error(exc) from exc
    return out
