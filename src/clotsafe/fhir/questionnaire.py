"""The intake as a FHIR R4 Questionnaire, generated from the question bank (one source of truth).

``linkId`` is the INTAKE.md question id; follow-up questions carry ``enableWhen`` with
``enableBehavior = any`` (the question bank's "any of" conditions); coded answers use one
CodeSystem per value set under :data:`CANONICAL_BASE`. Client wording comes from
``knowledge/questions.toml`` when it has the question, else the id is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from clotsafe.domain.intake import Answers
from clotsafe.domain.questions import (
    BY_ID,
    CLOT_KINDS,
    CLOT_SITE_EXTRA,
    CLOT_TREATMENTS,
    QUESTIONS,
    Condition,
    Question,
)
from clotsafe.domain.regions import GROUPS, REGIONS
from clotsafe.knowledge import load_toml
from clotsafe.rules import pending_questions

CANONICAL_BASE = "https://clotsafe.example.org/fhir"
QUESTIONNAIRE_URL = f"{CANONICAL_BASE}/Questionnaire/clotsafe-intake"
QUESTIONNAIRE_VERSION = "1"
TRI = ("yes", "no", "unsure")
REGION_CODES = REGIONS + tuple(GROUPS)
CLOT_SITE_CODES = REGION_CODES + CLOT_SITE_EXTRA
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
SECTIONS = ("red_flags", "clot_history", "medicines", "recent_events", "about_you")


def system_for(value_set: str) -> str:
    """The CodeSystem URI of one of clotsafe's answer value sets (tri, region, a question id)."""
    return f"{CANONICAL_BASE}/CodeSystem/{value_set}"


@cache
def _wording() -> Mapping[str, Any]:
    try:
        return load_toml("questions.toml")
    except FileNotFoundError:
        return {}


def question_text(qid: str) -> str:
    entry = _wording().get("question", {}).get(qid, {})
    return str(entry.get("text") or qid) if isinstance(entry, dict) else qid


def _option_label(table: Mapping[str, Any], code: str) -> str:
    return str(table.get(code, code.replace("_", " ")))


def value_set(q: Question) -> tuple[str, tuple[str, ...]]:
    """(CodeSystem URI, codes) of a coded question."""
    if q.type == "tri":
        return system_for("tri"), TRI
    if q.type == "regions":
        return system_for("region"), REGION_CODES
    return system_for(q.id), q.values


def clot_value_set(field: str) -> tuple[str, tuple[str, ...]]:
    """(CodeSystem URI, codes) of a coded field of a clot record."""
    if field == "site":
        return system_for("clot-site"), CLOT_SITE_CODES
    codes = CLOT_KINDS if field == "kind" else CLOT_TREATMENTS
    return system_for(f"clot-{field}"), codes


def _labels(q: Question) -> Mapping[str, Any]:
    w = _wording()
    labels: Mapping[str, Any]
    if q.type == "tri":
        labels = w.get("tri", {})
    elif q.type == "regions":
        labels = w.get("regions", {})
    else:
        labels = w.get("question", {}).get(q.id, {}).get("options", {})
    return labels


def _options(
    system: str, codes: tuple[str, ...], labels: Mapping[str, Any]
) -> list[dict[str, Any]]:
    return [{"valueCoding": {"system": system, "code": c, "display": _option_label(labels, c)}}
            for c in codes]  # fmt: skip


_FHIR_TYPE = {"tri": "choice", "enum": "choice", "regions": "choice", "names": "choice",
              "date": "date", "int": "integer", "number": "decimal", "clots": "group"}  # fmt: skip


def _enable_when(conds: tuple[Condition, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in conds:
        system, _ = value_set(BY_ID[c.question])
        for v in c.values:
            out.append({"question": c.question, "operator": "!=" if c.negate else "=",
                        "answerCoding": {"system": system, "code": v}})  # fmt: skip
    return out


@cache
def required_ids() -> frozenset[str]:
    """Questions the policy needs for a complete screening (INTAKE.md), when they are enabled."""
    base = set(pending_questions(Answers.from_mapping({})))
    base |= set(
        pending_questions(Answers.from_mapping({"anticoagulant": "yes", "clot_ever": "yes"}))
    )
    return frozenset(base)


def _question_item(q: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": q.id, "text": question_text(q.id), "type": _FHIR_TYPE[q.type]}
    if q.enable_when:
        item["enableWhen"] = _enable_when(q.enable_when)
        item["enableBehavior"] = "any"
    item["required"] = q.id in required_ids()
    if q.type in ("regions", "names", "clots"):
        item["repeats"] = True
    if item["type"] == "choice":
        system, codes = value_set(q)
        item["answerOption"] = _options(system, codes, _labels(q))
    if q.type == "clots":
        item["item"] = _clot_items()
    item.update(_bounds(q))
    return item


def _bounds(q: Question) -> dict[str, Any]:
    key = "valueInteger" if q.type == "int" else "valueDecimal"
    ext = [
        {"url": url, key: int(v) if q.type == "int" else v}
        for url, v in ((MIN_VALUE, q.minimum), (MAX_VALUE, q.maximum))
        if v is not None
    ]
    return {"extension": ext} if ext else {}


def _clot_items() -> list[dict[str, Any]]:
    w = _wording().get("clots", {})
    out: list[dict[str, Any]] = []
    for field in ("kind", "site", "diagnosed_on", "treatment"):
        entry = w.get(field, {})
        item: dict[str, Any] = {"linkId": f"clots.{field}", "text": entry.get("text", field),
                                "type": "date" if field == "diagnosed_on" else "choice",
                                "required": field == "kind"}  # fmt: skip
        if item["type"] == "choice":
            system, codes = clot_value_set(field)
            labels = {**_wording().get("regions", {}), **entry.get("options", {})}
            item["answerOption"] = _options(system, codes, labels)
        out.append(item)
    return out


def questionnaire() -> dict[str, Any]:
    """The intake Questionnaire as FHIR R4 JSON (parses with fhir.resources R4B)."""
    groups = []
    for section in SECTIONS:
        items = [_question_item(q) for q in QUESTIONS if q.section == section]
        groups.append({"linkId": section, "text": section.replace("_", " ").capitalize(),
                       "type": "group", "item": items})  # fmt: skip
    return {
        "resourceType": "Questionnaire",
        "id": "clotsafe-intake",
        "url": QUESTIONNAIRE_URL,
        "version": QUESTIONNAIRE_VERSION,
        "name": "ClotsafeIntake",
        "title": "clotsafe blood-clot screening intake (INTAKE.md)",
        "status": "active",
        "subjectType": ["Patient"],
        "item": groups,
    }
