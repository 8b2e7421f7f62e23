"""Turn the question bank into form fields and posted form data into intake answers.

The values stored are exactly the intake JSON of INTAKE.md; the engine's parser validates them
(dates in the future, numbers out of range), and its field errors are shown next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.http import QueryDict

from clotsafe.domain.questions import BY_ID, CLOT_FIELDS, CLOT_KINDS, CLOT_TREATMENTS
from clotsafe.domain.regions import GROUPS, REGIONS
from clotsafe.web import engine, texts

REQUIRED_MESSAGE = "Please choose an answer."
CLOT_KIND_MESSAGE = "Please choose what kind of clot it was."
#: regions offered as checkboxes, grouped for a phone screen
REGION_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Head and body", ("head", "neck", "chest", "abdomen", "upper_back", "lower_back", "gluteal")),
    ("Left arm", GROUPS["left_arm"]),
    ("Right arm", GROUPS["right_arm"]),
    ("Left leg", GROUPS["left_leg"]),
    ("Right leg", GROUPS["right_leg"]),
)
CLOT_SITES = ("legs", "left_leg", "right_leg", *GROUPS["left_leg"], *GROUPS["right_leg"],
              "arms", "left_arm", "right_arm", *GROUPS["left_arm"], *GROUPS["right_arm"],
              "head", "neck", "chest", "abdomen", "upper_back", "lower_back", "gluteal",
              "lung", "other", "unsure")  # fmt: skip


@dataclass
class Option:
    value: str
    label: str
    checked: bool


@dataclass
class Field:
    id: str
    type: str
    text: str
    hint: str = ""
    value: str = ""
    options: list[Option] = field(default_factory=list)
    groups: list[tuple[str, list[Option]]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    required: bool = False


def build_fields(qids: Sequence[str], answers: Mapping[str, Any],
                 errors: Mapping[str, str], extra_clots: int = 0) -> list[Field]:  # fmt: skip
    return [_field(qid, answers, errors, extra_clots) for qid in qids]


def _field(qid: str, answers: Mapping[str, Any], errors: Mapping[str, str],
           extra_clots: int) -> Field:  # fmt: skip
    q = BY_ID[qid]
    words = texts.question(qid)
    f = Field(qid, q.type, words["text"], words.get("hint", ""), error=errors.get(qid, ""),
              required=q.type == "tri")  # fmt: skip
    value = answers.get(qid)
    if q.type == "tri":
        f.options = [Option(v, texts.questions()["tri"][v], value == v)
                     for v in ("yes", "no", "unsure")]  # fmt: skip
    elif q.type in ("enum", "names"):
        chosen = value if isinstance(value, list) else [value]
        labels = words.get("options", {})
        f.options = [Option(v, labels.get(v, v), v in chosen) for v in q.values]
    elif q.type == "regions":
        regions = _expanded(value)
        f.groups = [(name, [Option(r, texts.region_label(r), r in regions) for r in rs])
                    for name, rs in REGION_GROUPS]  # fmt: skip
    elif q.type == "clots":
        f.records = _clot_records(value or [], errors, extra_clots)
    elif value is not None:
        f.value = _plain(value)
    return f


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _expanded(value: Any) -> set[str]:
    out: set[str] = set()
    for name in value or []:
        out.update(GROUPS.get(name, (name,)))
    return out


def _clot_records(records: list[dict[str, Any]], errors: Mapping[str, str],
                  extra: int) -> list[dict[str, Any]]:  # fmt: skip
    words = texts.questions()["clots"]
    rows = list(records) or [{}]
    rows += [{}] * extra
    regions = texts.questions()["regions"]
    site_labels = {**{r: texts.region_label(r) for r in CLOT_SITES if r in regions},
                   **words["site"]["options"]}  # fmt: skip
    out = []
    for i, rec in enumerate(rows):
        out.append({
            "index": i,
            "number": i + 1,
            "kind": [Option(v, words["kind"]["options"][v], rec.get("kind") == v)
                     for v in CLOT_KINDS],
            "site": [Option(v, site_labels[v], rec.get("site") == v) for v in CLOT_SITES],
            "diagnosed_on": rec.get("diagnosed_on") or "",
            "treatment": [Option(v, words["treatment"]["options"][v], rec.get("treatment") == v)
                          for v in CLOT_TREATMENTS],
            "error": errors.get(f"clots[{i}]", ""),
            "date_error": errors.get(f"clots[{i}].diagnosed_on", ""),
        })  # fmt: skip
    return out


# --- posted data -> answers ---------------------------------------------------------------


def parse_post(qids: Sequence[str], data: QueryDict, answers: Mapping[str, Any],
               *, require: bool, today: date) -> tuple[dict[str, Any], dict[str, str]]:  # fmt: skip
    """Merge the posted answers of these questions into ``answers``; return (answers, errors).

    With ``require`` (the client pressed Next), unanswered yes/no questions are errors.
    Values that fail to parse are not stored; the engine's checks run on the rest.
    """
    out = dict(answers)
    errors: dict[str, str] = {}
    for qid in qids:
        value, error = _parse_one(qid, data)
        if error:
            errors[qid] = error
            continue
        if value is None:
            out.pop(qid, None)
        else:
            out[qid] = value
    if require:
        for qid in qids:
            if not BY_ID[qid].enabled(out):
                continue
            if BY_ID[qid].type == "tri" and qid not in out and qid not in errors:
                errors[qid] = REQUIRED_MESSAGE
            if qid == "clots" and out.get("clot_ever") in ("yes", "unsure") and not out.get(
                    "clots") and "clots" not in errors:  # fmt: skip
                errors["clots[0]"] = CLOT_KIND_MESSAGE
    for err in engine.check_answers(out, today):
        key = err.field.removeprefix("answers.")
        qid = key.split("[")[0].split(".")[0]
        if qid in qids:
            errors.setdefault(key if qid == "clots" else qid, _friendly(err.code, err.message))
            _drop(out, qid, key)
    return out, errors


def _drop(answers: dict[str, Any], qid: str, key: str) -> None:
    """Remove an answer the engine rejected (for a clot record: only the bad field)."""
    if qid != "clots" or "[" not in key:
        answers.pop(qid, None)
        return
    index = int(key.split("[")[1].split("]")[0])
    name = key.rsplit(".", 1)[-1] if "." in key else ""
    records = [dict(r) for r in answers.get("clots", [])]
    if name and index < len(records):
        records[index].pop(name, None)
        answers["clots"] = records


def _friendly(code: str, message: str) -> str:
    return {
        "impossible_date": "This date is in the future. Please check it.",
        "out_of_range": "This number does not look right. Please check it.",
        "bad_date": "Please enter a real date.",
    }.get(code, message)


def _parse_one(qid: str, data: QueryDict) -> tuple[Any, str]:
    q = BY_ID[qid]
    if q.type == "clots":
        return _parse_clots(data)
    if q.type in ("names", "regions"):
        allowed = set(q.values) if q.type == "names" else set(REGIONS)
        chosen = [v for v in data.getlist(qid) if v in allowed]
        return (chosen or None), ""
    raw = (data.get(qid) or "").strip()
    if not raw:
        return None, ""
    if q.type == "tri":
        return (raw, "") if raw in ("yes", "no", "unsure") else (None, REQUIRED_MESSAGE)
    if q.type == "enum":
        return (raw, "") if raw in q.values else (None, REQUIRED_MESSAGE)
    if q.type == "date":
        return _parse_date(raw)
    return _parse_number(raw, whole=q.type == "int")


def _parse_date(raw: str) -> tuple[str | None, str]:
    try:
        return date.fromisoformat(raw).isoformat(), ""
    except ValueError:
        return None, "Please enter a real date."


def _parse_number(raw: str, *, whole: bool) -> tuple[int | float | None, str]:
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return None, "Please enter a number."
    if whole:
        if not number.is_integer():
            return None, "Please enter a whole number."
        return int(number), ""
    return number, ""


def _parse_clots(data: QueryDict) -> tuple[list[dict[str, Any]] | None, str]:
    try:
        count = min(int(data.get("clots-count", "0")), 20)
    except ValueError:
        count = 0
    records = []
    for i in range(count):
        rec = {f: (data.get(f"clots-{i}-{f}") or "").strip() for f in CLOT_FIELDS}
        if not rec["kind"]:
            continue
        records.append(_clot_record(rec))
    return (records or None), ""


def _clot_record(rec: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": rec["kind"] if rec["kind"] in CLOT_KINDS else "unsure"}
    if rec["site"] in CLOT_SITES:
        out["site"] = rec["site"]
    if rec["diagnosed_on"]:
        parsed, _ = _parse_date(rec["diagnosed_on"])
        if parsed:
            out["diagnosed_on"] = parsed
    if rec["treatment"] in CLOT_TREATMENTS:
        out["treatment"] = rec["treatment"]
    return out
