"""Errors of the ViewDefinition compiler: stable documented codes and the path into the view.

Protects: a broken screening view (a typo, an unsupported function) stops the population
screening before it reads a single record, naming where in the view the mistake is, instead of
silently flattening nothing — a patient whose clot history went missing would look clear.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clotsafe.fhir.sof import SOF_ERROR_CODES, SofError, compile_view, read_view

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _view(**extra: Any) -> dict[str, Any]:
    return {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}], **extra}


def test_every_code_documented() -> None:
    """Each sof_* code has a row in docs/errors.md (and only documented codes can be raised)."""
    text = (DOCS / "errors.md").read_text()
    assert [c for c in SOF_ERROR_CODES if f"| `{c}` |" not in text] == []
    with pytest.raises(ValueError, match="undocumented"):
        SofError("sof_nope", "x")


@pytest.mark.parametrize(
    ("view", "code", "path"),
    [
        ([], "sof_not_an_object", ""),
        ({}, "sof_missing_field", "resource"),
        ({"resource": "Patient"}, "sof_missing_field", "select"),
        (_view(select=[{"column": [{"path": "id"}]}]), "sof_missing_field",
         "select[0].column[0].name"),
        (_view(select=[{"forEach": 1}]), "sof_wrong_type", "select[0].forEach"),
        (_view(select=[{"colum": []}]), "sof_unknown_field", "select[0].colum"),
        (_view(select=[{"repeat": []}]), "sof_wrong_type", "select[0].repeat"),
        (_view(select=[{"repeat": ["item"], "forEach": "item"}]), "sof_wrong_type", "select[0]"),
        (_view(select=[{"forEach": "@@"}]), "sof_bad_fhirpath", "select[0].forEach"),
        (_view(select=[{"column": [{"name": "1st", "path": "id"}]}]), "sof_bad_name",
         "select[0].column[0].name"),
        (_view(select=[{"column": [{"name": "a", "path": "id"}, {"name": "a", "path": "id"}]}]),
         "sof_duplicate_column", "select[0].column[1].name"),
        (_view(select=[{"unionAll": [{"column": [{"name": "a", "path": "id"}]},
                                     {"column": [{"name": "b", "path": "id"}]}]}]),
         "sof_union_mismatch", "select[0].unionAll[1]"),
        (_view(constant=[{"name": "x"}]), "sof_bad_constant", "constant[0]"),
        (_view(select=[{"column": [{"name": "a", "path": "name.where(use = %nope).family"}]}]),
         "sof_undefined_constant", "select[0].column[0].path"),
        (_view(select=[{"column": [{"name": "a", "path": "name.given.lowBoundary()"}]}]),
         "sof_unsupported", "select[0].column[0].path"),
        (_view(where=[{"path": "'yes'"}]), "sof_where_not_boolean", "where[0].path"),
    ],
)  # fmt: skip
def test_error_names_code_and_path(view: Any, code: str, path: str) -> None:
    """A bad view is refused when compiled, with its code and the path to the mistake."""
    with pytest.raises(SofError) as err:
        compile_view(view, dialect="duckdb", source="src")
    assert (err.value.code, err.value.path) == (code, path)
    assert str(err.value).endswith(f"[{code}]")


def test_bad_dialect() -> None:
    """Only the two engines are accepted."""
    with pytest.raises(SofError) as err:
        compile_view(_view(), dialect="sqlite", source="src")  # type: ignore[arg-type]
    assert err.value.code == "sof_bad_dialect"


def test_fhirpath_error_says_where_in_the_expression() -> None:
    """A FHIRPath syntax error gives the character position."""
    with pytest.raises(SofError, match="at character 5"):
        read_view(_view(where=[{"path": "name..family"}]))
