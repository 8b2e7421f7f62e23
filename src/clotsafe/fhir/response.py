"""A QuestionnaireResponse (or a Bundle holding one) -> the intake JSON of INTAKE.md.

Checked against the generated Questionnaire: unknown linkIds, answers of the wrong type or
outside the answer options, repeated answers to a non-repeating item, answers to items that are
not enabled, and (for a ``completed`` response) required items missing. Every problem names the
path into the resource, e.g. ``item[3].answer[0].valueCoding``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pydantic
from fhir.resources.R4B.questionnaireresponse import (  # type: ignore[import-not-found, unused-ignore]
    QuestionnaireResponse,
)

from clotsafe.domain.errors import FieldError, IntakeError
from clotsafe.domain.intake import Answers, Intake, parse_intake
from clotsafe.domain.questions import BY_ID, Question
from clotsafe.fhir.errors import FhirInputError, from_pydantic, join, problem
from clotsafe.fhir.questionnaire import SECTIONS, clot_value_set, required_ids, value_set
from clotsafe.rules import pending_questions

_VALUE_KEY = {"tri": "valueCoding", "enum": "valueCoding", "regions": "valueCoding",
              "names": "valueCoding", "date": "valueDate", "int": "valueInteger",
              "number": "valueDecimal"}  # fmt: skip
_CLOT_KEY = {"kind": "valueCoding", "site": "valueCoding", "diagnosed_on": "valueDate",
             "treatment": "valueCoding"}  # fmt: skip


@dataclass
class _Reader:
    """Collects answers and problems while walking the response's items."""

    answers: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    def walk(self, items: Any, prefix: str) -> None:
        for i, item in enumerate(items or ()):
            path = join(prefix, f"item[{i}]")
            link = item.get("linkId") if isinstance(item, dict) else None
            if link in SECTIONS:
                self.walk(item.get("item"), path)
            elif link == "clots":
                self._clot(item, path)
            elif isinstance(link, str) and link in BY_ID:
                self._question(BY_ID[link], item, path)
            else:
                self.errors.append(problem(join(path, "linkId"), "unknown_link_id",
                                           f"{link!r} is not an item of the clotsafe intake "
                                           "Questionnaire", link))  # fmt: skip

    def _question(self, q: Question, item: Mapping[str, Any], path: str) -> None:
        if q.id in self.answers:
            self.errors.append(problem(join(path, "linkId"), "duplicate_item",
                                       f"{q.id!r} appears more than once", q.id))  # fmt: skip
            return
        values = [self._value(q, a, join(path, f"answer[{j}]"))
                  for j, a in enumerate(item.get("answer") or ())]  # fmt: skip
        values = [v for v in values if v is not None]
        if not values:
            return
        self.paths[q.id] = path
        if q.type in ("regions", "names"):
            self.answers[q.id] = values
        elif len(values) > 1:
            self.errors.append(problem(join(path, "answer[1]"), "too_many_answers",
                                       f"{q.id!r} takes one answer"))  # fmt: skip
        else:
            self.answers[q.id] = values[0]

    def _value(self, q: Question, answer: Any, path: str) -> Any:
        key = _VALUE_KEY[q.type]
        system, codes = value_set(q) if key == "valueCoding" else ("", ())
        return _typed(answer, key, system, codes, path, self.errors, q.type == "number")

    def _clot(self, item: Mapping[str, Any], path: str) -> None:
        record: dict[str, Any] = {}
        for j, sub in enumerate(item.get("item") or ()):
            self._clot_field(sub, join(path, f"item[{j}]"), record)
        self.answers.setdefault("clots", []).append(record)
        self.paths.setdefault("clots", path)
        self.paths[f"clots[{len(self.answers['clots']) - 1}]"] = path

    def _clot_field(self, sub: Any, path: str, record: dict[str, Any]) -> None:
        link = sub.get("linkId") if isinstance(sub, dict) else None
        name = link[6:] if isinstance(link, str) and link.startswith("clots.") else None
        if name is None or name not in _CLOT_KEY:
            self.errors.append(
                problem(
                    join(path, "linkId"),
                    "unknown_link_id",
                    f"{link!r} is not a field of a clot record",
                    link,
                )
            )
            return
        key = _CLOT_KEY[name]
        system, codes = clot_value_set(name) if key == "valueCoding" else ("", ())
        for j, a in enumerate(sub.get("answer") or ()):
            v = _typed(a, key, system, codes, join(path, f"answer[{j}]"), self.errors, False)
            if v is not None:
                record[name] = v
                self.paths[f"clots.{name}"] = path


def _typed(answer: Any, key: str, system: str, codes: tuple[str, ...], path: str,
           errors: list[FieldError], decimal: bool) -> Any:  # fmt: skip
    """The plain value of one answer, or None after recording why it is unusable."""
    keys = [k for k in answer if k.startswith("value")] if isinstance(answer, dict) else []
    allowed = (key, "valueInteger") if decimal else (key,)
    if len(keys) != 1 or keys[0] not in allowed:
        got = keys[0] if keys else None
        errors.append(problem(join(path, got or key), "wrong_type",
                              f"expected {key}", got))  # fmt: skip
        return None
    value = answer[keys[0]]
    if key != "valueCoding":
        return value
    return _coding(value, system, codes, join(path, key), errors)


def _coding(value: Any, system: str, codes: tuple[str, ...], path: str,
            errors: list[FieldError]) -> str | None:  # fmt: skip
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        errors.append(problem(path, "missing_code", "a Coding with a code is required", value))
        return None
    if value.get("system") != system:
        errors.append(
            problem(
                join(path, "system"),
                "unknown_code_system",
                f"expected the system {system}",
                value.get("system"),
            )
        )
        return None
    if value["code"] not in codes:
        errors.append(problem(join(path, "code"), "not_allowed_value",
                              "not one of the answer options: " + ", ".join(codes),
                              value["code"]))  # fmt: skip
        return None
    code: str = value["code"]
    return code


@dataclass(frozen=True, slots=True)
class ResponseIntake:
    """The intake read from a QuestionnaireResponse, with where each answer came from."""

    intake: Intake
    #: question id (and clots[i]) -> path of its item in the resource
    paths: Mapping[str, str]


def find_response(obj: Any) -> tuple[Mapping[str, Any], str]:
    """The QuestionnaireResponse in ``obj`` (itself or a Bundle entry) and its path prefix."""
    if not isinstance(obj, dict):
        raise FhirInputError(
            [problem("", "not_an_object", "expected a FHIR resource (JSON object)")]
        )
    kind = obj.get("resourceType")
    if kind == "QuestionnaireResponse":
        return obj, ""
    if kind != "Bundle":
        raise FhirInputError([problem("resourceType", "wrong_resource_type",
                                      "expected a QuestionnaireResponse or a Bundle holding one",
                                      kind)])  # fmt: skip
    found = [(e.get("resource"), f"entry[{i}].resource")
             for i, e in enumerate(obj.get("entry") or ()) if isinstance(e, dict)
             and isinstance(e.get("resource"), dict)
             and e["resource"].get("resourceType") == "QuestionnaireResponse"]  # fmt: skip
    if len(found) != 1:
        raise FhirInputError([problem("entry", "no_single_response",
                                      f"the Bundle holds {len(found)} QuestionnaireResponse "
                                      "resources; expected exactly one")])  # fmt: skip
    resource: Mapping[str, Any] = found[0][0] or {}
    return resource, found[0][1]


def read_response(obj: Any, *, at: date | None = None) -> ResponseIntake:
    """Validate a QuestionnaireResponse (or a Bundle holding one) and build the intake.

    ``at`` is the screening date; by default the date part of ``authored``.
    """
    qr, prefix = find_response(obj)
    _structure(qr, prefix)
    reader = _Reader()
    reader.walk(qr.get("item"), prefix)
    reader.errors += _enabled_problems(reader, prefix)
    if qr.get("status") == "completed":
        reader.errors += _required_problems(reader, prefix)
    if reader.errors:
        raise FhirInputError(reader.errors)
    on = at or _authored(qr, prefix)
    return _intake(reader, on)


def _structure(qr: Mapping[str, Any], prefix: str) -> None:
    try:
        QuestionnaireResponse.model_validate(qr)
    except pydantic.ValidationError as exc:
        raise FhirInputError(from_pydantic(exc.errors(), prefix)) from None


def _authored(qr: Mapping[str, Any], prefix: str) -> date:
    raw = qr.get("authored")
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise FhirInputError([problem(join(prefix, "authored"), "missing_date",
                                      "authored is needed as the screening date (or pass one)",
                                      raw)]) from None  # fmt: skip


def _enabled_problems(reader: _Reader, prefix: str) -> list[FieldError]:
    out = []
    for qid in list(reader.answers):
        q = BY_ID.get(qid)
        if q is not None and not q.enabled(reader.answers):
            conds = " or ".join(c.question for c in q.enable_when)
            out.append(problem(reader.paths.get(qid, prefix), "not_enabled",
                               f"{qid!r} is only asked when {conds} is yes/unsure "
                               "(enableWhen)", qid))  # fmt: skip
    return out


def _required_problems(reader: _Reader, prefix: str) -> list[FieldError]:
    try:
        answers = Answers.from_mapping(reader.answers)
    except pydantic.ValidationError:
        return []  # reported later, with paths, by parse_intake
    missing = [q for q in pending_questions(answers) if q in required_ids()]
    return [problem(join(prefix, "item"), "required_missing",
                    f"required item {q!r} has no answer (status is completed)", q)
            for q in missing]  # fmt: skip


def _intake(reader: _Reader, on: date) -> ResponseIntake:
    obj = {"screened_on": on.isoformat(), "answers": reader.answers}
    try:
        intake = parse_intake(obj)
    except IntakeError as exc:
        raise FhirInputError([_remap(e, reader.paths) for e in exc.errors]) from None
    return ResponseIntake(intake, dict(reader.paths))


def _remap(err: FieldError, paths: Mapping[str, str]) -> FieldError:
    """An intake error (``answers.clots[0].diagnosed_on``) at its QuestionnaireResponse path."""
    field = err.field.removeprefix("answers.")
    head = field.split(".")[0]
    base = paths.get(head) or paths.get(head.split("[")[0], "")
    return FieldError(base or err.field, err.code, f"{field}: {err.message}", err.got)
