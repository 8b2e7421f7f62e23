"""The intake JSON of INTAKE.md and the clearances of POLICY §5, validated at the edge.

``parse_intake(obj)`` turns a decoded JSON object into an immutable :class:`Intake` or raises
:class:`IntakeError` listing every problem with the field path, what was expected and what came.
The pydantic models below are generated from the question bank, so the JSON Schema printed by
``clotsafe schema intake`` is the same contract the parser enforces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from clotsafe.domain import strictjson
from clotsafe.domain.errors import FieldError, IntakeError
from clotsafe.domain.questions import (
    BY_ID,
    CLOT_KINDS,
    CLOT_SITE_EXTRA,
    CLOT_TREATMENTS,
    QUESTIONS,
    Question,
)
from clotsafe.domain.regions import REGION_OR_GROUP, expand, expand_caps
from clotsafe.domain.types import Tri

IsoDate = date
_REGION_NAMES = tuple(sorted(REGION_OR_GROUP))
RegionName = Literal[_REGION_NAMES]  # type: ignore[valid-type]
ClotSite = Literal[tuple(sorted(REGION_OR_GROUP | set(CLOT_SITE_EXTRA)))]  # type: ignore[valid-type]
PressureLevel = Annotated[int, Field(ge=0, le=5)]

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


class ClotRecord(BaseModel):
    """One clot (INTAKE.md ``clots``); only ``kind`` is required."""

    model_config = _STRICT
    kind: Literal["dvt", "pe", "svt", "other", "unsure"]
    site: ClotSite | None = None  # type: ignore[valid-type]
    diagnosed_on: IsoDate | None = None
    treatment: Literal["ongoing", "finished", "none", "unsure"] | None = None


assert set(CLOT_KINDS) == {"dvt", "pe", "svt", "other", "unsure"}
assert set(CLOT_TREATMENTS) == {"ongoing", "finished", "none", "unsure"}


class Restrictions(BaseModel):
    """A clinician's restrictions (POLICY §5): caps by region or group, regions to avoid."""

    model_config = _STRICT
    pressure_max: dict[RegionName, PressureLevel] = Field(default_factory=dict)
    avoid: list[RegionName] = Field(default_factory=list)
    notes: str = ""


class ClearanceIn(BaseModel):
    """A recorded clearance as it arrives in the intake JSON (POLICY §5)."""

    model_config = _STRICT
    rules: list[str] = Field(min_length=1)
    clinician: str = Field(min_length=1)
    date: IsoDate
    valid_until: IsoDate | None = None
    restrictions: Restrictions = Field(default_factory=Restrictions)


def _field_type(q: Question) -> Any:
    lit: Any
    if q.type == "tri":
        return Literal["yes", "no", "unsure"]
    if q.type == "date":
        return IsoDate
    if q.type == "int":
        return Annotated[int, Field(ge=q.minimum, le=q.maximum)]
    if q.type == "number":
        return Annotated[float, Field(ge=q.minimum, le=q.maximum)]
    if q.type == "enum":
        lit = Literal[q.values]
        return lit
    if q.type == "regions":
        return list[RegionName]
    if q.type == "names":
        lit = Literal[q.values]
        return list[lit]
    return list[ClotRecord]


AnswersModel: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Answers",
    __config__=_STRICT,
    **{q.id: (_field_type(q) | None, None) for q in QUESTIONS},
)


class IntakeModel(BaseModel):
    """The intake JSON (INTAKE.md "The intake JSON"), with optional clearances (POLICY §5)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, title="clotsafe intake (INTAKE.md)"
    )
    screened_on: IsoDate
    answers: AnswersModel
    clearances: list[ClearanceIn] = Field(default_factory=list)


# --- the validated, immutable intake used inside the engine --------------------------------


#: a validated clot record (fields kind, site, diagnosed_on, treatment)
Clot = ClotRecord


@dataclass(frozen=True, slots=True)
class Clearance:
    rules: frozenset[str]
    clinician: str
    date: dt.date
    valid_until: dt.date | None
    pressure_max: Mapping[str, int]  # region id -> cap (groups expanded)
    avoid: frozenset[str]
    notes: str


class Answers:
    """Typed, read-only access to the answers; an absent (or null) key is *missing* (INTAKE.md).

    Wraps the validated pydantic model without copying it: batches screen many intakes.
    """

    __slots__ = ("_d", "_model")

    def __init__(self, model: BaseModel) -> None:
        self._model = model
        self._d: dict[str, Any] = model.__dict__

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Answers:
        """Validate plain answers (as in the intake JSON) into Answers."""
        return cls(AnswersModel.model_validate_json(orjson.dumps(dict(values))))

    def __contains__(self, qid: str) -> bool:
        return self._d.get(qid) is not None

    def get(self, qid: str) -> Any:
        return self._d.get(qid)

    def tri(self, qid: str) -> Tri | None:
        v: Tri | None = self._d.get(qid)
        return v

    def yes(self, qid: str) -> bool:
        """True for "yes" and "unsure": unsure counts as yes (POLICY §2)."""
        return self._d.get(qid) in ("yes", "unsure")

    def no(self, qid: str) -> bool:
        return self._d.get(qid) == "no"

    def date(self, qid: str) -> date | None:
        v: date | None = self._d.get(qid)
        return v

    def number(self, qid: str) -> float | None:
        v = self._d.get(qid)
        return None if v is None else float(v)

    def text(self, qid: str) -> str | None:
        v: str | None = self._d.get(qid)
        return v

    def names(self, qid: str) -> tuple[str, ...]:
        return tuple(self._d.get(qid) or ())

    def regions(self, qid: str) -> frozenset[str] | None:
        """The expanded regions, or None when the question is unanswered or answered empty."""
        v = self._d.get(qid)
        return expand(v) if v else None

    def clots(self) -> tuple[Clot, ...]:
        return tuple(self._d.get("clots") or ())

    def as_mapping(self) -> Mapping[str, Any]:
        """Every question id -> its answer, None where missing (read with ``.get``)."""
        return self._d

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = self._model.model_dump(mode="json", exclude_none=True)
        return out


@dataclass(frozen=True, slots=True)
class Intake:
    screened_on: date
    answers: Answers
    clearances: tuple[Clearance, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "screened_on": self.screened_on.isoformat(),
            "answers": self.answers.to_json(),
        }
        if self.clearances:
            out["clearances"] = [_clearance_json(c) for c in self.clearances]
        return out


def _clearance_json(c: Clearance) -> dict[str, Any]:
    d: dict[str, Any] = {
        "rules": sorted(c.rules),
        "clinician": c.clinician,
        "date": c.date.isoformat(),
    }
    if c.valid_until:
        d["valid_until"] = c.valid_until.isoformat()
    d["restrictions"] = {
        "pressure_max": dict(c.pressure_max),
        "avoid": sorted(c.avoid),
        "notes": c.notes,
    }
    return d


# --- parsing --------------------------------------------------------------------------------

_TYPE_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "literal_error": "not_allowed_value",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "too_short": "missing_field",
    "date_parsing": "bad_date",
    "date_type": "bad_date",
    "date_from_datetime_parsing": "bad_date",
    "json_invalid": "invalid_json",
    "model_type": "not_an_object",
    "dict_type": "not_an_object",
}


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad mapping key: the key is already named
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _expected(loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "answers" and isinstance(loc[1], str) and loc[1] in BY_ID:
        q = BY_ID[loc[1]]
        if q.type == "tri":
            return '"yes", "no" or "unsure"'
        if q.type in ("enum", "names") and q.values:
            return "one of " + ", ".join(q.values)
        return {
            "date": "a date YYYY-MM-DD",
            "int": "a whole number",
            "number": "a number",
            "regions": "a list of region ids",
            "clots": "a list of clot records",
        }.get(q.type, q.type)
    return ""


def _scalar(v: Any) -> Any:
    """The offending value when it is a short JSON scalar (echoed back in the error)."""
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 80):
        return v
    return None


def _is_region_field(loc: tuple[int | str, ...]) -> bool:
    names = {p for p in loc if isinstance(p, str)}
    if names & {"site", "avoid", "pressure_max"}:
        return True
    return len(loc) >= 2 and loc[0] == "answers" and BY_ID.get(str(loc[1]), _NOQ).type == "regions"


_NOQ = Question("", "tri", "about_you")


def _convert(err: Mapping[str, Any]) -> FieldError:
    loc: tuple[int | str, ...] = tuple(err["loc"])
    typ: str = err["type"]
    code = _TYPE_CODES.get(typ, "wrong_type" if typ.endswith(("_type", "_parsing")) else typ)
    if code == "unknown_field" and len(loc) == 2 and loc[0] == "answers":
        code = "unknown_question"
    if code == "not_allowed_value" and _is_region_field(loc):
        code = "unknown_region"
    msg = err["msg"]
    if code == "unknown_question":
        msg = f"{loc[1]!r} is not a question id of INTAKE.md"
    elif code == "unknown_field":
        msg = f"{loc[-1]!r} is not a field here"
    elif code == "unknown_region":
        msg = (
            "unknown region; expected one of the 21 region ids or a group (left_leg, "
            "right_leg, legs, left_arm, right_arm, arms)"
        )
    elif code == "bad_date":
        msg = "expected a real calendar date written YYYY-MM-DD"
    elif code == "missing_field":
        msg = "required field is missing" if typ == "missing" else msg
    else:
        exp = _expected(loc)
        if exp and code in ("wrong_type", "not_allowed_value"):
            msg = f"expected {exp}"
    got = None if code in ("missing_field", "unknown_question") else _scalar(err.get("input"))
    return FieldError(_path(loc), code, msg, got)


def parse_intake(obj: Any, *, known_rules: Mapping[str, bool] | None = None) -> Intake:
    """Validate a decoded intake JSON object (see :func:`parse_intake_json`)."""
    if not isinstance(obj, dict):
        raise IntakeError(
            [
                FieldError(
                    "",
                    "not_an_object",
                    'the intake must be a JSON object with "screened_on" and "answers"',
                    None,
                )
            ]
        )
    # a decoded object names each key once: its JSON needs no duplicate-key check (a bulk
    # screening validates one intake a patient this way)
    return _validated(orjson.dumps(obj), known_rules)


def parse_intake_json(raw: bytes | str, *, known_rules: Mapping[str, bool] | None = None) -> Intake:
    """Validate one intake given as JSON text.

    ``known_rules`` maps rule ids to whether a clearance may cover them (False for red flags);
    when given, clearances naming other rules are rejected. A key named twice in one object
    is refused (``duplicate_key``, POLICY 1.1 §8.1), never read as "the last one wins".
    """
    try:
        strictjson.loads(raw)
    except strictjson.JsonInputError as exc:
        raise IntakeError(exc.errors) from None
    return _validated(raw, known_rules)


def _validated(raw: bytes | str, known_rules: Mapping[str, bool] | None) -> Intake:
    """The intake of JSON text that names no key twice (see :func:`parse_intake_json`)."""
    try:
        model = IntakeModel.model_validate_json(raw)
    except ValidationError as exc:
        raise IntakeError([_convert(e) for e in exc.errors()]) from None
    intake = _build(model)
    problems = _impossible_dates(intake)
    if intake.clearances:
        problems += _clearance_problems(intake, known_rules)
    if problems:
        raise IntakeError(problems)
    return intake


def _build(model: IntakeModel) -> Intake:
    clearances = tuple(
        Clearance(
            rules=frozenset(c.rules),
            clinician=c.clinician,
            date=c.date,
            valid_until=c.valid_until,
            pressure_max=expand_caps(c.restrictions.pressure_max),
            avoid=expand(c.restrictions.avoid),
            notes=c.restrictions.notes,
        )
        for c in model.clearances
    )
    return Intake(model.screened_on, Answers(model.answers), clearances)


def _impossible_dates(intake: Intake) -> list[FieldError]:
    on = intake.screened_on
    errs: list[FieldError] = []
    for qid in _DATE_QUESTIONS:
        d = intake.answers.date(qid)
        if d is not None and d > on:
            errs.append(_future(f"answers.{qid}", d, on))
    for i, c in enumerate(intake.answers.clots()):
        if c.diagnosed_on is not None and c.diagnosed_on > on:
            errs.append(_future(f"answers.clots[{i}].diagnosed_on", c.diagnosed_on, on))
    for i, cl in enumerate(intake.clearances):
        if cl.date > on:
            errs.append(_future(f"clearances[{i}].date", cl.date, on))
        if cl.valid_until is not None and cl.valid_until < cl.date:
            errs.append(
                FieldError(
                    f"clearances[{i}].valid_until",
                    "impossible_date",
                    f"valid_until {cl.valid_until} is before the clearance date {cl.date}",
                    cl.valid_until.isoformat(),
                )
            )
    return errs


_DATE_QUESTIONS = tuple(q.id for q in QUESTIONS if q.type == "date")


def _future(field: str, d: date, on: date) -> FieldError:
    return FieldError(field, "impossible_date", f"{d} is after screened_on {on}", d.isoformat())


def _clearance_problems(intake: Intake, known: Mapping[str, bool] | None) -> list[FieldError]:
    if known is None:
        return []
    errs = []
    for i, cl in enumerate(intake.clearances):
        for rule in sorted(cl.rules):
            if rule not in known:
                errs.append(
                    FieldError(
                        f"clearances[{i}].rules",
                        "unknown_rule",
                        f"{rule!r} is not a rule id (see `clotsafe rules`)",
                        rule,
                    )
                )
            elif not known[rule]:
                errs.append(
                    FieldError(
                        f"clearances[{i}].rules",
                        "rule_not_clearable",
                        f"{rule} is a red-flag rule: no clearance can cover it"
                        if rule.startswith("RF-")
                        else f"{rule} comes from a clearance: no clearance can cover it",
                        rule,
                    )
                )
    return errs


def intake_json_schema() -> dict[str, Any]:
    """The JSON Schema of the intake (``clotsafe schema intake``)."""
    return IntakeModel.model_json_schema()
