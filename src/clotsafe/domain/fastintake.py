"""A fast intake validator for batches: msgspec types generated from the question bank.

:class:`FastParser` accepts exactly the intakes :func:`~clotsafe.domain.intake.parse_intake_json`
accepts, builds the same :class:`~clotsafe.domain.intake.Intake` (the same answer values and
types, wrapped in the same pydantic models) and, for anything it does not accept outright,
hands the line to ``parse_intake_json`` itself: so every error list is exactly the reference
one, and a line the fast validator is unsure of is never screened differently. It counts how
many lines went which way (``fast``, ``fallback``).

The fast path takes a line only when it can prove everything the reference would check:
ASCII text without ``\\u`` escapes (so msgspec and orjson cannot disagree on strings), valid
JSON of the right types (msgspec, strict: no coercion, unknown keys refused, ranges and allowed
values from the question bank), no key named twice (:func:`_unique`: strictjson's argument
applied to what msgspec decoded, which spares strictjson's second parse), no date after
``screened_on``, and clearances that name clearable rules. Anything else, including a valid
explicit ``null``, goes to ``parse_intake_json``.

Why msgspec: pydantic-core validation after strictjson costs about 4 × an orjson parse of the
line; msgspec decodes and checks it in well under one, and the whole fast parse (building the
Intake included) is about half the reference (benchmarks/stages.py). The validated values are
placed into the pydantic models the engine wraps as ``model_construct`` would place them
(``__dict__`` in field order, the fields set) without its per-field loop, which alone costs
more than the validation. tests/rules/test_fastpath.py proves that the answers (values and
types), clearances and decisions are identical to the reference on every golden vignette and
on 20,000 random intakes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from operator import itemgetter
from typing import Annotated, Any, Literal, TypedDict

import msgspec
from pydantic import BaseModel

from clotsafe.domain.intake import (
    Answers,
    AnswersModel,
    Clearance,
    ClotRecord,
    Intake,
    parse_intake_json,
)
from clotsafe.domain.questions import (
    CLOT_KINDS,
    CLOT_SITE_EXTRA,
    CLOT_TREATMENTS,
    QUESTIONS,
    Question,
)
from clotsafe.domain.regions import REGION_OR_GROUP, expand, expand_caps

_REGION = Literal[tuple(sorted(REGION_OR_GROUP))]  # type: ignore[valid-type]
_SITE = Literal[tuple(sorted(REGION_OR_GROUP | set(CLOT_SITE_EXTRA)))]  # type: ignore[valid-type]
_PRESSURE = Annotated[int, msgspec.Meta(ge=0, le=5)]


class _Clot(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal[CLOT_KINDS]  # type: ignore[valid-type]
    site: _SITE | None = None  # type: ignore[valid-type]
    diagnosed_on: dt.date | None = None
    treatment: Literal[CLOT_TREATMENTS] | None = None  # type: ignore[valid-type]


# Optional fields default to None, never to their value, so that _unique can tell a key that
# was written from one that was not; an explicit null where the reference refuses one fails
# _unique's count and goes to the reference parser.
class _Restrictions(msgspec.Struct, forbid_unknown_fields=True):
    pressure_max: dict[_REGION, _PRESSURE] | None = None  # type: ignore[valid-type]
    avoid: list[_REGION] | None = None  # type: ignore[valid-type]
    notes: str | None = None


class _Clearance(msgspec.Struct, forbid_unknown_fields=True):
    rules: Annotated[list[str], msgspec.Meta(min_length=1)]
    clinician: Annotated[str, msgspec.Meta(min_length=1)]
    date: dt.date
    valid_until: dt.date | None = None
    restrictions: _Restrictions | None = None


def _field_type(q: Question) -> Any:
    """The msgspec type of one question: the same contract as intake._field_type."""
    if q.type == "tri":
        return Literal["yes", "no", "unsure"]
    if q.type == "date":
        return dt.date
    if q.type in ("int", "number"):
        base = int if q.type == "int" else float
        return Annotated[base, msgspec.Meta(ge=q.minimum, le=q.maximum)]
    lit: Any = Literal[q.values] if q.values else None
    if q.type == "enum":
        return lit
    if q.type == "regions":
        return list[_REGION]  # type: ignore[valid-type]
    if q.type == "names":
        return list[lit]
    return list[_Clot]


# The answers decode into a plain dict of the questions answered (a TypedDict: msgspec checks
# each value's type as for a Struct field, and the batch needs a dict anyway). A value may not
# be null: an explicit null goes to the reference parser. A key the bank does not have is
# dropped by msgspec, and _unique's colon count then falls short, so that line goes to the
# reference parser too, which names the unknown key.
_AnswersDict: Any = TypedDict(  # type: ignore[misc]
    "_AnswersDict", {q.id: _field_type(q) for q in QUESTIONS}, total=False
)


class _Intake(msgspec.Struct, forbid_unknown_fields=True):
    screened_on: dt.date
    answers: _AnswersDict
    clearances: list[_Clearance] | None = None


#: what :meth:`FastParser.try_answers` returns: (answers, screened_on, clearances)
Answered = tuple[dict[str, Any], dt.date, tuple[Clearance, ...]]

_NO_RESTRICTIONS = _Restrictions()
_DECODE = msgspec.json.Decoder(_Intake).decode
_ASDICT = msgspec.structs.asdict
#: every question id -> None: the answers dict's keys in the bank's (the model's field) order
_UNANSWERED: dict[str, Any] = dict.fromkeys(q.id for q in QUESTIONS)
#: the date answers, read in one call
_DATES = itemgetter(*(q.id for q in QUESTIONS if q.type == "date"))
_set = object.__setattr__


def _model(cls: type[BaseModel], values: dict[str, Any], given: set[str]) -> Any:
    """``cls.model_construct(values, _fields_set=given)`` for already validated values in field
    order, without its per-field Python loop (pydantic's construct sets exactly these four)."""
    m = cls.__new__(cls)
    _set(m, "__dict__", values)
    _set(m, "__pydantic_fields_set__", given)
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m


class FastParser:
    """``parse(raw) -> Intake``: the fast validator with the reference parser behind it."""

    __slots__ = ("fallback", "fast", "known_rules")

    def __init__(self, known_rules: Mapping[str, bool] | None = None) -> None:
        self.known_rules = known_rules
        self.fast = 0
        self.fallback = 0

    def __call__(self, raw: bytes) -> Intake:
        intake = self.try_fast(raw)
        if intake is None:
            self.fallback += 1
            return parse_intake_json(raw, known_rules=self.known_rules)
        self.fast += 1
        return intake

    def try_fast(self, raw: bytes) -> Intake | None:
        """The Intake, or None when the reference parser must decide (and name the errors)."""
        parts = self.try_answers(raw)
        if parts is None:
            return None
        values, on, clearances = parts
        given = {k for k, v in values.items() if v is not None}
        clots = values["clots"]
        if clots is not None:
            values["clots"] = [_clot(c) for c in clots]
        return Intake(on, Answers(_model(AnswersModel, values, given)), clearances)

    def try_answers(self, raw: bytes) -> Answered | None:
        """(answers, screened_on, clearances) of a line the fast path takes, or None (as
        :meth:`try_fast`), without the Intake: the batch's compiled evaluator reads the
        answers dict (every question id -> its value, None where missing; clot records as
        msgspec structs with ``ClotRecord``'s attributes). Not counted."""
        if not raw.isascii() or b"\\u" in raw:
            return None  # escapes and non-ASCII text: the reference decides (see _unique)
        try:
            obj = _DECODE(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        values = {**_UNANSWERED, **obj.answers}  # every question, None where not answered
        if not _unique(raw, obj, values, len(obj.answers)):
            return None
        on = obj.screened_on
        if _future(values, on):
            return None
        clearances = self._clearances(obj.clearances, on) if obj.clearances else ()
        if clearances is None:
            return None
        return values, on, clearances

    def _clearances(self, given: list[_Clearance], on: dt.date) -> tuple[Clearance, ...] | None:
        known = self.known_rules
        out = []
        for c in given:
            if c.date > on or (c.valid_until is not None and c.valid_until < c.date):
                return None
            if known is not None and not all(known.get(r) for r in c.rules):
                return None
            r = c.restrictions or _NO_RESTRICTIONS
            out.append(Clearance(frozenset(c.rules), c.clinician, c.date, c.valid_until,
                                 expand_caps(r.pressure_max or {}), expand(r.avoid or ()),
                                 r.notes or ""))  # fmt: skip
        return tuple(out)


def _unique(raw: bytes, obj: _Intake, values: dict[str, Any], answered: int) -> bool:
    """True when no key is named twice in ``raw`` (else the reference refuses or accepts it).

    strictjson's argument (see its docstring), applied to what msgspec decoded: with no
    ``\\u`` escape in the text, every ``:`` written is a key/value separator or a colon inside
    a string. Counting the pairs that decoded to a value (not None) plus the colons inside the
    decoded strings can only fall short of ``raw.count(b":")``: a repeated key loses a pair, an
    explicit ``null`` is not counted. Equality therefore proves every key unique; a shortfall
    (a repeat, or just a null) sends the line to the reference parser, which decides exactly.
    Only clearances hold free text (answers are dates, numbers and listed values).
    """
    count = 2 + answered
    for c in values["clots"] or ():
        count += 1 + (c.site is not None) + (c.diagnosed_on is not None) + (c.treatment is not None)
    if obj.clearances is not None:
        count += 1
        for cl in obj.clearances:
            count += 3 + (cl.valid_until is not None) + cl.clinician.count(":")
            count += sum(r.count(":") for r in cl.rules)
            r = cl.restrictions
            if r is not None:
                count += 1 + len(r.pressure_max or ()) + (r.pressure_max is not None)
                count += (r.avoid is not None) + (r.notes is not None)
                count += (r.notes or "").count(":")
    return count == raw.count(b":")


def _clot(c: _Clot) -> Any:
    values = _ASDICT(c)
    return _model(ClotRecord, values, {k for k, v in values.items() if v is not None})


def _future(values: dict[str, Any], on: dt.date) -> bool:
    """Any answer date after screened_on (the reference reports these as impossible_date)."""
    latest = max(filter(None, _DATES(values)), default=None)  # dates are never falsy
    if latest is not None and latest > on:
        return True
    return any(c.diagnosed_on is not None and c.diagnosed_on > on for c in values["clots"] or ())
