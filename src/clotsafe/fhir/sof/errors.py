"""Errors of the ViewDefinition compiler: a stable code (docs/errors.md, "SQL on FHIR views"),
the path into the view (``select[0].column[1].path``) and a message that says what was expected.
"""

from __future__ import annotations

#: every code the compiler and its runners report; each has a row in docs/errors.md
SOF_ERROR_CODES: dict[str, str] = {
    "sof_not_an_object": "the view (or a part of it) must be a JSON object",
    "sof_missing_field": "a required element of the view is absent",
    "sof_wrong_type": "an element of the view has the wrong JSON type",
    "sof_unknown_field": "an element the ViewDefinition does not have",
    "sof_unsupported": "a ViewDefinition feature or FHIRPath function this compiler does not have",
    "sof_bad_fhirpath": "a FHIRPath expression that does not parse",
    "sof_bad_name": "a column or constant name that is not a database-friendly identifier",
    "sof_duplicate_column": "two columns of one view have the same name",
    "sof_union_mismatch": "the branches of a unionAll do not have the same columns in order",
    "sof_bad_constant": "a constant without exactly one value[x], or of an unknown type",
    "sof_undefined_constant": "a %name that is neither a view constant nor passed in",
    "sof_where_not_boolean": "a where path that gives something other than one boolean",
    "sof_repeat_too_deep": "a repeat found elements nested deeper than the compiler unrolls",
    "sof_not_single": "the left of `in` has several values (write where(x in %list).exists())",
    "sof_not_collection": "a column without collection: true got several values",
    "sof_bad_dialect": "the dialect is not duckdb or spark",
    "sof_engine_error": "the database engine refused the compiled SQL or failed running it",
}


class SofError(Exception):
    """A ViewDefinition problem: ``code`` (SOF_ERROR_CODES), ``path`` into the view, message."""

    def __init__(self, code: str, message: str, path: str = "") -> None:
        if code not in SOF_ERROR_CODES:
            raise ValueError(f"undocumented SQL on FHIR error code {code!r}")
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{message} [{code}]")
        self.code = code
        self.path = path
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "field": self.path, "message": self.message}
