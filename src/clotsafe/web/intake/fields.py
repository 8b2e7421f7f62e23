"""What one step shows: each question with its words, options, the client's answer, and what
they typed that could not be stored (never emptied), from the question bank and the draft.

Parsing and validation are Django forms (:mod:`clotsafe.web.intake.forms`); this module only
prepares the values the templates display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clotsafe.domain.questions import BY_ID, CLOT_KINDS, CLOT_TREATMENTS
from clotsafe.domain.regions import GROUPS
from clotsafe.web import texts
from clotsafe.web.intake.forms import AGO_DAYS, CLOT_SITES, CM_PER_INCH, KG_PER_LB, Path

#: regions offered as checkboxes, grouped for a phone screen
REGION_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Head and body", ("head", "neck", "chest", "abdomen", "upper_back", "lower_back", "gluteal")),
    ("Left arm", GROUPS["left_arm"]),
    ("Right arm", GROUPS["right_arm"]),
    ("Left leg", GROUPS["left_leg"]),
    ("Right leg", GROUPS["right_leg"]),
)


@dataclass
class Option:
    value: str
    label: str
    checked: bool


@dataclass
class Part:
    """One input of a question asked in parts (feet and inches)."""

    name: str
    label: str
    value: str


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
    #: sequence number of the newest save applied to this question (the page's script counts on)
    seq: int = 0
    ago: list[Option] = field(default_factory=list)
    other: str | None = None
    parts: list[Part] = field(default_factory=list)


@dataclass(frozen=True)
class Draft:
    """What the step is drawn from: answers, and the draft state of the intake app."""

    answers: Mapping[str, Any]
    errors: Mapping[Path, str] = field(default_factory=dict)
    raw: Mapping[str, str] = field(default_factory=dict)
    seqs: Mapping[str, int] = field(default_factory=dict)
    clot_rows: Sequence[Mapping[str, str]] = ()
    approx: Mapping[str, str] = field(default_factory=dict)
    others: Mapping[str, str] = field(default_factory=dict)
    units: str = "metric"
    extra_clots: int = 0


def build_fields(qids: Sequence[str], draft: Draft) -> list[Field]:
    return [_field(qid, draft) for qid in qids]


def _field(qid: str, d: Draft) -> Field:
    q = BY_ID[qid]
    words = texts.question(qid)
    f = Field(qid, q.type, words["text"], words.get("hint", ""), error=d.errors.get((qid,), ""),
              required=q.type == "tri", seq=int(d.seqs.get(qid, 0)))  # fmt: skip
    value = d.answers.get(qid)
    if q.type == "tri":
        f.options = [Option(v, texts.questions()["tri"][v], value == v)
                     for v in ("yes", "no", "unsure")]  # fmt: skip
    elif q.type in ("enum", "names"):
        _choices(f, q.values, value, words.get("options", {}), d)
    elif q.type == "regions":
        regions = _expanded(value)
        f.groups = [(name, [Option(r, texts.region_label(r), r in regions) for r in rs])
                    for name, rs in REGION_GROUPS]  # fmt: skip
    elif q.type == "clots":
        f.records = clot_records(d)
    elif q.type == "date":
        f.value = d.raw.get(qid, value or "")
        f.ago = ago_options(d.approx.get(qid, "") if value else "")
    elif qid in ("height_cm", "weight_kg") and d.units == "us":
        _us_parts(f, value, d)
    else:
        f.value = d.raw.get(qid, _plain(value) if value is not None else "")
    return f


def _choices(f: Field, values: Sequence[str], value: Any, labels: Mapping[str, str],
             d: Draft) -> None:  # fmt: skip
    chosen = value if isinstance(value, list) else [value]
    brands = texts.client_text()["brands"]
    f.options = [Option(v, _with_brand(labels.get(v, v), brands.get(v, "")), v in chosen)
                 for v in values]  # fmt: skip
    if f.type == "names" and "other" in values:
        f.other = d.others.get(f.id, "")


def _with_brand(label: str, brand: str) -> str:
    return f"{label} ({brand})" if brand else label


def ago_options(chosen: str) -> list[Option]:
    words = texts.client_text()["ago"]
    return [Option(k, words[k], k == chosen) for k in AGO_DAYS]


def _us_parts(f: Field, value: Any, d: Draft) -> None:
    us = texts.client_text()["units"]["us"]
    if f.id == "height_cm":
        f.text = us["height"]
        inches = round(float(value) / CM_PER_INCH) if value is not None else None
        ft = str(inches // 12) if inches is not None else ""
        rest = str(inches % 12) if inches is not None else ""
        f.parts = [Part("height_cm-ft", us["feet"], d.raw.get("height_cm-ft", ft)),
                   Part("height_cm-in", us["inches"], d.raw.get("height_cm-in", rest))]  # fmt: skip
    else:
        f.text = us["weight"]
        lb = _plain(round(float(value) / KG_PER_LB)) if value is not None else ""
        f.parts = [Part("weight_kg-lb", us["pounds"], d.raw.get("weight_kg-lb", lb))]


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _expanded(value: Any) -> set[str]:
    out: set[str] = set()
    for name in value or []:
        out.update(GROUPS.get(name, (name,)))
    return out


def clot_records(d: Draft) -> list[dict[str, Any]]:
    """The clot records on screen: as the client last posted them (a record without a kind
    yet keeps its date), else from the stored answers; one empty record to start."""
    words = texts.questions()["clots"]
    rows = [dict(r) for r in d.clot_rows] or [_row(r) for r in d.answers.get("clots") or []]
    rows = (rows or [{}]) + [{}] * d.extra_clots
    regions = texts.questions()["regions"]
    site_labels = {**{r: texts.region_label(r) for r in CLOT_SITES if r in regions},
                   **words["site"]["options"]}  # fmt: skip
    return [{
        "index": i, "number": i + 1,
        "kind": [Option(v, words["kind"]["options"][v], rec.get("kind") == v) for v in CLOT_KINDS],
        "site": [Option(v, site_labels[v], rec.get("site") == v) for v in CLOT_SITES],
        "diagnosed_on": rec.get("diagnosed_on", ""),
        "ago": ago_options(rec.get("diagnosed_on-ago", "")),
        "treatment": [Option(v, words["treatment"]["options"][v], rec.get("treatment") == v)
                      for v in CLOT_TREATMENTS],
        "error": d.errors.get(("clots", i), ""),
        "date_error": d.errors.get(("clots", i, "diagnosed_on"), ""),
    } for i, rec in enumerate(rows)]  # fmt: skip


def _row(record: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in record.items() if v is not None}
