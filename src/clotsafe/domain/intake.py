"""The intake JSON of INTAKE.md and the clearances of POLICY §5, validated at the edge.

``parse_intake(obj)`` turns a decoded JSON object into an immutable :class:`Intake` or raises
:class:`IntakeError` listing every problem with the field path, what was expected and what came.
The pydantic models below are generated from the question bank, so the JSON Schema printed by
``clotsafe schema intake`` is the same contract the parser enforces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
import datetime as dt
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from clotsafe.domain.errors import FieldError, IntakeError
from clotsafe.domain.questions import (
    BY_ID,
    CLOT_KINDS,
    CLOT_SITE_EXTRA,
    CLOT_TREATMENTS,
    QUESTIONS,
    Question,
)
from clotsafe.domain.regions import GROUPS, REGION_OR_GROUP, expand
from clotsafe.domain.types import Tri

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(v: Any) -> date:
    if isinstance(v, date):
        return v
    if not isinstance(v, str) or not _DATE_RE.fullmatch(v):
        raise PydanticCustomError("bad_date", "expected a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise PydanticCustomError("bad_date", "not a real calendar date") from None


def _check_region(v: Any) -> str:
    if not isinstance(v, str):
        raise PydanticCustomError("wrong_type", "expected a region id (string)")
    if v not in REGION_OR_GROUP:
        raise PydanticCustomError(
            "unknown_region",
            "unknown region; expected one of the 21 "
            "region ids or a group (left_leg, right_leg, legs, left_arm, "
            "right_arm, arms)",
        )
    return v


def _check_clot_site(v: Any) -> str:
    if isinstance(v, str) and v in CLOT_SITE_EXTRA:
        return v
    return _check_region(v)


IsoDate = Annotated[
    date,
    BeforeValidator(_parse_date),
    Field(json_schema_extra={"type": "string", "format": "date"}),
]
RegionName = Annotated[
    str, BeforeValidator(_check_region), Field(json_schema_extra={"enum": sorted(REGION_OR_GROUP)})
]
ClotSite = Annotated[
    str,
    BeforeValidator(_check_clot_site),
    Field(json_schema_extra={"enum": sorted(REGION_OR_GROUP | set(CLOT_SITE_EXTRA))}),
]
PressureLevel = Annotated[int, Field(ge=0, le=5)]

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


class ClotRecord(BaseModel):
    """One clot (INTAKE.md ``clots``); only ``kind`` is required."""

    model_config = _STRICT
    kind: Literal["dvt", "pe", "svt", "other", "unsure"]
    site: ClotSite | None = None
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
    answers: AnswersModel  # type: ignore[valid-type]
    clearances: list[ClearanceIn] = Field(default_factory=list)


# --- the validated, immutable intake used inside the engine --------------------------------


@dataclass(frozen=True, slots=True)
class Clot:
    kind: str
    site: str | None
    diagnosed_on: date | None
    treatment: str | None


@dataclass(frozen=True, slots=True)
class Clearance:
    rules: frozenset[str]
    clinician: str
    date: dt.date
    valid_until: dt.date | None
    pressure_max: Mapping[str, int]  # region id -> cap (groups expanded)
    avoid: frozenset[str]
    notes: str

    def expires_on(self, default_days: int) -> dt.date:
        return self.valid_until or self.date + timedelta(days=default_days)


class Answers:
    """Typed, read-only access to the answers; an absent key is *missing* (INTAKE.md)."""

    __slots__ = ("_d",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._d: dict[str, Any] = {k: v for k, v in values.items() if v is not None}

    def __contains__(self, qid: str) -> bool:
        return qid in self._d

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
        return tuple(self._d.get(qid, ()))

    def regions(self, qid: str) -> frozenset[str] | None:
        """The expanded regions, or None when the question is unanswered or answered empty."""
        v = self._d.get(qid)
        return expand(v) if v else None

    def clots(self) -> tuple[Clot, ...]:
        return tuple(self._d.get("clots", ()))

    def as_mapping(self) -> Mapping[str, Any]:
        return self._d

    def to_json(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in self._d.items()}


def _jsonable(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, tuple):
        if v and isinstance(v[0], Clot):
            return [
                {
                    k: _jsonable(getattr(c, k))
                    for k in ("kind", "site", "diagnosed_on", "treatment")
                    if getattr(c, k) is not None
                }
                for c in v
            ]
        return list(v)
    return v


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
    "bad_date": "bad_date",
    "unknown_region": "unknown_region",
    "wrong_type": "wrong_type",
    "model_type": "not_an_object",
    "dict_type": "not_an_object",
}


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
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


def _convert(err: Mapping[str, Any]) -> FieldError:
    loc: tuple[int | str, ...] = tuple(err["loc"])
    typ: str = err["type"]
    code = _TYPE_CODES.get(typ, "wrong_type" if typ.endswith(("_type", "_parsing")) else typ)
    if code == "unknown_field" and len(loc) == 2 and loc[0] == "answers":
        code = "unknown_question"
    msg = err["msg"]
    if code == "unknown_question":
        msg = f"{loc[1]!r} is not a question id of INTAKE.md"
    elif code == "unknown_field":
        msg = f"{loc[-1]!r} is not a field here"
    elif code == "missing_field":
        msg = "required field is missing" if typ == "missing" else msg
    else:
        exp = _expected(loc)
        if exp and code in ("wrong_type", "not_allowed_value"):
            msg = f"expected {exp}"
    got = None if code in ("missing_field", "unknown_question") else err.get("input")
    if isinstance(got, (dict, list)) and len(str(got)) > 80:
        got = None
    if isinstance(got, date):
        got = got.isoformat()
    return FieldError(_path(loc), code, msg, got)


def parse_intake(
    obj: Any, *, known_rules: Mapping[str, bool] | None = None, clearance_days: int = 90
) -> Intake:
    """Validate a decoded intake JSON object.

    ``known_rules`` maps rule ids to whether a clearance may cover them (False for red flags);
    when given, clearances naming other rules are rejected.
    """
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
    try:
        model = IntakeModel.model_validate(obj)
    except ValidationError as exc:
        raise IntakeError([_convert(e) for e in exc.errors()]) from None
    intake = _build(model, obj["answers"].keys())
    problems = _impossible_dates(intake) + _clearance_problems(intake, known_rules)
    if problems:
        raise IntakeError(problems)
    return intake


def _build(model: IntakeModel, keys: Any) -> Intake:
    raw = model.answers.__dict__
    values: dict[str, Any] = {}
    for k in keys:
        v = raw[k]
        if v is None:
            continue
        if k == "clots":
            v = tuple(Clot(c.kind, c.site, c.diagnosed_on, c.treatment) for c in v)
        elif isinstance(v, list):
            v = tuple(v)
        values[k] = v
    clearances = tuple(
        Clearance(
            rules=frozenset(c.rules),
            clinician=c.clinician,
            date=c.date,
            valid_until=c.valid_until,
            pressure_max=_expand_caps(c.restrictions.pressure_max),
            avoid=expand(c.restrictions.avoid),
            notes=c.restrictions.notes,
        )
        for c in model.clearances
    )
    return Intake(model.screened_on, Answers(values), clearances)


def _expand_caps(caps: Mapping[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    # groups first, single regions override... no: the stricter (lower) always wins
    for name, cap in caps.items():
        for r in GROUPS.get(name, (name,)):
            out[r] = min(cap, out.get(r, cap))
    return out


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
                        f"{rule} is a red-flag rule: no clearance can cover it",
                        rule,
                    )
                )
    return errs


def intake_json_schema() -> dict[str, Any]:
    """The JSON Schema of the intake (``clotsafe schema intake``)."""
    return IntakeModel.model_json_schema()
