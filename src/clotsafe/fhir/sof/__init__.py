"""SQL on FHIR v2 ViewDefinitions compiled to DuckDB SQL and Spark SQL (docs/bulk.md).

``compile_view(view, dialect=..., source=...)`` turns a ViewDefinition (a parsed JSON object)
into one SELECT over ``source``: a table or view with one FHIR resource per row, as JSON text, in
a column named ``resource`` (DuckDB: ``JSON`` or ``VARCHAR``; Spark: ``STRING``). The query
keeps only rows whose ``resourceType`` is the view's ``resource``, so one source may hold several
types. ``run_duckdb`` and ``run_spark`` read NDJSON files (gzip or not) into such a source and
return each view's rows. Errors are :class:`SofError` with a ``sof_*`` code (docs/errors.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from clotsafe.fhir.sof.compiler import compile_parsed
from clotsafe.fhir.sof.dialect import DIALECTS
from clotsafe.fhir.sof.errors import SOF_ERROR_CODES, SofError
from clotsafe.fhir.sof.runners import (
    duckdb_connect,
    duckdb_source,
    run_duckdb,
    run_spark,
    spark_session,
    spark_source,
)
from clotsafe.fhir.sof.typed import compile_typed_ndjson
from clotsafe.fhir.sof.view import ConstantValue, View, read_view

Dialect = Literal["duckdb", "spark"]


def compile_view(
    view: Mapping[str, object] | View,
    *,
    dialect: Dialect,
    source: str,
    constants: Mapping[str, ConstantValue] | None = None,
    carry: Sequence[str] = (),
) -> str:
    """One SQL SELECT giving the view's rows, its columns named and ordered as the view says.

    ``source`` is a table/view name (or a parenthesised subquery) with a ``resource`` column of
    JSON text. ``constants`` adds to (and overrides) the view's ``constant`` list: a string,
    number or boolean, or a tuple of them, usable as ``%name`` (``code in %codes``). Raises
    :class:`SofError` (``sof_*``) naming the path into the view when the view is invalid or
    uses something this compiler does not support. ``carry`` names columns of ``source``
    copied into each row as they are, before the view's (``bulk screen`` carries each
    resource's file and line, so the kept lines are found again without parsing them).
    """
    d = DIALECTS.get(dialect)
    if d is None:
        raise SofError("sof_bad_dialect", f"expected 'duckdb' or 'spark', got {dialect!r}")
    parsed = view if isinstance(view, View) else read_view(view)
    return compile_parsed(parsed, d, source, dict(constants or {}), tuple(carry))


def view_columns(view: Mapping[str, object] | View) -> list[str]:
    """The view's output column names, in order."""
    parsed = view if isinstance(view, View) else read_view(view)
    return [c.name for c in parsed.root.all_columns()]


__all__ = [
    "SOF_ERROR_CODES",
    "ConstantValue",
    "Dialect",
    "SofError",
    "View",
    "compile_typed_ndjson",
    "compile_view",
    "duckdb_connect",
    "duckdb_source",
    "read_view",
    "run_duckdb",
    "run_spark",
    "spark_session",
    "spark_source",
    "view_columns",
]
