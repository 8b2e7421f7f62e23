"""Input errors that name the field, what was expected and what arrived (docs/errors.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: every error code clotsafe emits for bad input; each has an entry in docs/errors.md
ERROR_CODES: dict[str, str] = {
    "invalid_json": "the input is not valid JSON",
    "duplicate_key": "an object names the same key twice (POLICY 1.1 §8.1)",
    "not_an_object": "the intake (or a part of it) must be a JSON object",
    "unknown_question": "an answer key that is not a question id of INTAKE.md",
    "unknown_field": "a key that this object does not have",
    "missing_field": "a required field is absent",
    "wrong_type": "the value has the wrong JSON type for this field",
    "not_allowed_value": "the value is not one of the allowed values",
    "unknown_region": "not one of the 21 region ids or the region groups",
    "bad_date": "not a real calendar date written YYYY-MM-DD",
    "impossible_date": "a date that cannot be right, for example after screened_on",
    "out_of_range": "a number outside the plausible range for this field",
    "unknown_rule": "a rule id that the policy does not have",
    "rule_not_clearable": "a red-flag rule, which no clearance can cover",
    "bad_settings": "a clinic setting that is malformed or would weaken the policy",
    "unknown_calculator": "a score name that clotsafe does not have",
    "unknown_item": "an item id that this calculator does not have",
}


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field. ``field`` is a dotted path such as ``answers.clots[0].kind``."""

    field: str
    code: str
    message: str
    got: Any = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"field": self.field, "code": self.code, "message": self.message}
        if self.got is not None:
            d["got"] = self.got
        return d

    def __str__(self) -> str:
        return f"{self.field or '(top level)'}: {self.message} [{self.code}]"


@dataclass
class ClotsafeInputError(ValueError):
    """Bad input; carries every problem found, each naming its field."""

    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {"errors": [e.to_dict() for e in self.errors]}


class IntakeError(ClotsafeInputError):
    """A malformed intake."""


class SettingsError(ClotsafeInputError):
    """Clinic settings that are malformed or would weaken the policy (POLICY §6)."""
