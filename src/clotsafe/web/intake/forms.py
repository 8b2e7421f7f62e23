"""Django forms generated from the question bank (``clotsafe.domain.questions``).

One form field per question (a clot record is a small form of its own, prefixed
``clots-<n>``); Django parses and validates, with the question bank's plausibility bounds, so a
value that is not a number (``nan``, ``inf``, ``1e309``) or out of range (``1e80``) is a field
error, never a crash. Dates are refused when they are in the future or before 1900 and, like
every value the client typed that cannot be stored, are kept on screen with the error.

Errors are keyed by paths, as tuples: ``("surgery_on",)``, ``("clots", 0, "diagnosed_on")``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from clotsafe.domain.questions import BY_ID, CLOT_KINDS, CLOT_TREATMENTS, Question
from clotsafe.domain.regions import GROUPS, REGIONS

Path = tuple[str | int, ...]

REQUIRED_MESSAGE = "Please choose an answer."
CLOT_KIND_MESSAGE = "Please choose what kind of clot it was."
NUMBER_MESSAGE = "Please enter a number."
WHOLE_MESSAGE = "Please enter a whole number."
RANGE_MESSAGE = "This number does not look right. Please check it."
DATE_MESSAGE = "Please enter a real date."
FUTURE_MESSAGE = "This date is in the future. Please check it."
TOO_OLD_MESSAGE = "This date is too long ago. Please check it."
EARLIEST = date(1900, 1, 1)
MAX_TEXT = 200
TRI = ("yes", "no", "unsure")
CLOT_SITES = (
    "legs",
    "left_leg",
    "right_leg",
    *GROUPS["left_leg"],
    *GROUPS["right_leg"],
    "arms",
    "left_arm",
    "right_arm",
    *GROUPS["left_arm"],
    *GROUPS["right_arm"],
    "head",
    "neck",
    "chest",
    "abdomen",
    "upper_back",
    "lower_back",
    "gluteal",
    "lung",
    "other",
    "unsure",
)
#: "about how long ago" -> days back. The stored date is the most recent end of the range
#: (INTAKE.md: a form may store the computed date), so a time window is never missed.
AGO_DAYS: dict[str, int] = {
    "week": 0,
    "weeks": 7,
    "months": 28,
    "months_6": 84,
    "year": 182,
    "years_2": 364,
    "longer": 728,
}
CM_PER_INCH = 2.54
KG_PER_LB = 0.45359237
US_FIELDS = {"height_cm": ("height_cm-ft", "height_cm-in"), "weight_kg": ("weight_kg-lb",)}


class DateInput(forms.Field):
    """An ISO date (what ``<input type=date>`` posts), between 1900 and today."""

    def __init__(self, today: date, **kw: Any) -> None:
        super().__init__(required=False, **kw)
        self.today = today

    def to_python(self, value: Any) -> date | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            d = date.fromisoformat(text)
        except ValueError:
            raise ValidationError(DATE_MESSAGE, code="bad_date") from None
        if d > self.today:
            raise ValidationError(FUTURE_MESSAGE, code="impossible_date")
        if d < EARLIEST:
            raise ValidationError(TOO_OLD_MESSAGE, code="impossible_date")
        return d


class DecimalInput(forms.FloatField):
    """A number as typed on a phone ("72,5" too); nan and infinities are refused by Django."""

    def to_python(self, value: Any) -> float | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


def _number_field(q: Question, *, whole: bool) -> forms.Field:
    messages = {
        "invalid": WHOLE_MESSAGE if whole else NUMBER_MESSAGE,
        "min_value": RANGE_MESSAGE,
        "max_value": RANGE_MESSAGE,
    }
    if whole:
        lo, hi = (None if b is None else int(b) for b in (q.minimum, q.maximum))
        return forms.IntegerField(
            required=False, min_value=lo, max_value=hi, error_messages=messages
        )
    return DecimalInput(
        required=False, min_value=q.minimum, max_value=q.maximum, error_messages=messages
    )


def question_fields(q: Question, *, today: date, units: str) -> dict[str, forms.Field]:
    """The form fields of one question, by their posted names."""
    if q.type == "tri":
        return {
            q.id: forms.ChoiceField(
                choices=[(v, v) for v in TRI],
                required=False,
                error_messages={"invalid_choice": REQUIRED_MESSAGE},
            )
        }
    if q.type == "enum":
        return {
            q.id: forms.ChoiceField(
                choices=[(v, v) for v in q.values],
                required=False,
                error_messages={"invalid_choice": REQUIRED_MESSAGE},
            )
        }
    if q.type in ("names", "regions"):
        values = q.values if q.type == "names" else REGIONS
        out: dict[str, forms.Field] = {q.id: _lenient_multiple(values)}
        if "other" in q.values:
            out[f"{q.id}-other"] = forms.CharField(required=False, max_length=MAX_TEXT)
        return out
    if q.type == "date":
        return {q.id: DateInput(today), f"{q.id}-ago": _ago_field()}
    if units == "us" and q.id == "height_cm":
        return {
            "height_cm-ft": forms.IntegerField(
                required=False, min_value=1, max_value=9, error_messages=_range("whole")
            ),
            "height_cm-in": DecimalInput(
                required=False, min_value=0, max_value=11.99, error_messages=_range("number")
            ),
        }
    if units == "us" and q.id == "weight_kg":
        return {
            "weight_kg-lb": DecimalInput(
                required=False, min_value=2, max_value=1500, error_messages=_range("number")
            )
        }
    return {q.id: _number_field(q, whole=q.type == "int")}


def _range(kind: str) -> dict[str, str]:
    return {
        "invalid": WHOLE_MESSAGE if kind == "whole" else NUMBER_MESSAGE,
        "min_value": RANGE_MESSAGE,
        "max_value": RANGE_MESSAGE,
    }


def _lenient_multiple(values: Sequence[str]) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        choices=[(v, v) for v in values],
        required=False,
        error_messages={"invalid_choice": REQUIRED_MESSAGE},
    )


def _ago_field() -> forms.ChoiceField:
    return forms.ChoiceField(choices=[("", ""), *((k, k) for k in AGO_DAYS)], required=False)


class ClotForm(forms.Form):
    """One ``clots`` record (INTAKE.md), posted as ``clots-<n>-kind`` etc."""

    kind = forms.ChoiceField(choices=[(v, v) for v in CLOT_KINDS], required=False)
    site = forms.ChoiceField(choices=[(v, v) for v in CLOT_SITES], required=False)
    treatment = forms.ChoiceField(choices=[(v, v) for v in CLOT_TREATMENTS], required=False)

    def __init__(self, *args: Any, today: date, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["diagnosed_on"] = DateInput(today)
        self.fields["diagnosed_on-ago"] = _ago_field()


def step_form(qids: Sequence[str], data: Any, *, today: date, units: str) -> forms.Form:
    """A Django form with the fields of these questions (clots apart: :func:`clot_forms`)."""
    form = forms.Form(data)
    for qid in qids:
        if BY_ID[qid].type != "clots":
            form.fields.update(question_fields(BY_ID[qid], today=today, units=units))
    return form


def clot_forms(data: Any, *, today: date) -> list[ClotForm]:
    try:
        count = min(max(int(data.get("clots-count", "0")), 0), 20)
    except ValueError:
        count = 0
    return [ClotForm(data, prefix=f"clots-{i}", today=today) for i in range(count)]


# --- posted data -> answers ------------------------------------------------------------------


@dataclass
class Parsed:
    """What one question's posted fields say: its answer (None: no answer), what was typed
    that could not be stored (field name -> text), errors by path, and extras."""

    value: Any = None
    raw: dict[str, str] = field(default_factory=dict)
    errors: dict[Path, str] = field(default_factory=dict)
    approx: dict[str, str] = field(default_factory=dict)
    other: str | None = None
    clot_rows: list[dict[str, str]] | None = None


def parse_question(qid: str, form: forms.Form, data: Any, *, today: date) -> Parsed:
    q = BY_ID[qid]
    if q.type == "clots":
        return _parse_clots(data, today)
    out = Parsed()
    if q.type == "date":
        return _parse_date(qid, form, data, today, out)
    if qid in US_FIELDS and US_FIELDS[qid][0] in form.fields:
        return _parse_us(qid, form, data, out)
    _take(form, qid, data, out)
    if q.type == "names" and "other" in q.values:
        out.other = str(form.cleaned_data.get(f"{qid}-other") or "")[:MAX_TEXT]
    if q.type in ("names", "regions"):
        out.value = list(out.value or []) or None
    return out


def typed(data: Any, name: str) -> str:
    """What the client typed in a field, to be kept on screen: at most MAX_TEXT characters,
    without NUL (no one types it, and PostgreSQL refuses it in text and JSON alike)."""
    return str(data.get(name, "")).replace("\x00", "")[:MAX_TEXT]


def _take(form: forms.Form, name: str, data: Any, out: Parsed, path: Path | None = None) -> Any:
    """The cleaned value of one field; an invalid one is kept as typed, with its error."""
    if name in form.errors:
        out.errors[path or (name,)] = str(form.errors[name][0])
        out.raw[name] = typed(data, name)
        return None
    value = form.cleaned_data.get(name)
    if value in ("", None, []):
        value = None
    if path is None:
        out.value = value
    return value


def _parse_date(qid: str, form: forms.Form, data: Any, today: date, out: Parsed) -> Parsed:
    exact = _take(form, qid, data, out)
    ago = form.cleaned_data.get(f"{qid}-ago") or ""
    if exact is not None:
        out.value = exact.isoformat()
    elif ago and (qid,) not in out.errors:
        out.value = (today - timedelta(days=AGO_DAYS[ago])).isoformat()
        out.approx[qid] = ago
    return out


def _parse_us(qid: str, form: forms.Form, data: Any, out: Parsed) -> Parsed:
    names = US_FIELDS[qid]
    parts = [_take(form, n, data, out, path=(qid,)) for n in names]
    if out.errors or all(p is None for p in parts):
        return out
    if qid == "height_cm":
        inches = (parts[0] or 0) * 12 + (parts[1] or 0)
        out.value = round(inches * CM_PER_INCH, 1)
    else:
        out.value = round(float(parts[0]) * KG_PER_LB, 1)
    bounds = BY_ID[qid]
    if not (bounds.minimum or 0) <= out.value <= (bounds.maximum or out.value):
        out.errors[(qid,)] = RANGE_MESSAGE
        out.raw.update({n: typed(data, n) for n in names})
        out.value = None
    return out


def _parse_clots(data: Any, today: date) -> Parsed:
    rows: list[dict[str, str]] = []
    out = Parsed(clot_rows=rows)
    records: list[dict[str, Any]] = []
    for f in clot_forms(data, today=today):
        f.is_valid()
        row = {
            k: typed(data, f"{f.prefix}-{k}").strip()
            for k in ("kind", "site", "diagnosed_on", "diagnosed_on-ago", "treatment")
        }
        if not any(row.values()):
            continue
        rows.append(row)
        record = _clot_record(f, len(rows) - 1, today, out)
        if record.get("kind"):
            records.append(record)
    out.value = records or None
    return out


def _clot_record(f: ClotForm, index: int, today: date, out: Parsed) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    for name in ("kind", "site", "treatment"):
        if name not in f.errors and f.cleaned_data.get(name):
            rec[name] = f.cleaned_data[name]
    if "diagnosed_on" in f.errors:
        out.errors[("clots", index, "diagnosed_on")] = str(f.errors["diagnosed_on"][0])
    elif f.cleaned_data.get("diagnosed_on"):
        rec["diagnosed_on"] = f.cleaned_data["diagnosed_on"].isoformat()
    elif f.cleaned_data.get("diagnosed_on-ago"):
        days = AGO_DAYS[f.cleaned_data["diagnosed_on-ago"]]
        rec["diagnosed_on"] = (today - timedelta(days=days)).isoformat()
    return rec


def required_errors(
    qids: Sequence[str], answers: Mapping[str, Any], clot_rows: Sequence[Mapping[str, str]]
) -> dict[Path, str]:
    """When the client presses Next: yes/no questions left unanswered, a clot without a kind."""
    errors: dict[Path, str] = {}
    for qid in qids:
        q = BY_ID[qid]
        if not q.enabled(answers):
            continue
        if q.type == "tri" and qid not in answers:
            errors[(qid,)] = REQUIRED_MESSAGE
        if q.type == "clots":
            for i, row in enumerate(clot_rows or [{}]):
                if not row.get("kind"):
                    errors[("clots", i)] = CLOT_KIND_MESSAGE
    return errors


class ConsentForm(forms.Form):
    """The end page: the answers are the client's own and true as far as they know."""

    name = forms.CharField(max_length=MAX_TEXT, strip=True)
    confirm = forms.BooleanField()

    def __init__(self, *args: Any, words: Mapping[str, str], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["name"].error_messages["required"] = words["need_name"]
        self.fields["confirm"].error_messages["required"] = words["need_tick"]
