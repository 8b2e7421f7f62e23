"""FHIR sources for the Screener (``clotsafe.rules.screener``): each yields SourceItems.

They wrap the existing readers and change nothing in them:

* :func:`questionnaire_response_source`: a QuestionnaireResponse (or a Bundle holding one),
  read by ``fhir.response.read_response``; identity ``{"questionnaire_response": ref}``;
  provenance: each answer -> the path of its item in the resource (``item[3]``);
* :func:`ehr_source`: EHR resources (a Bundle, a list, one resource) for one patient, read by
  ``fhir.ehr.derive``; identity ``{"patient": ref}``; provenance: each derived answer -> the
  references of the resources it came from (``Condition/c1``);
* :func:`fhir_source`: either, as ``clotsafe screen --fhir`` decides (a QuestionnaireResponse
  when the input holds one, EHR data otherwise).

A bad input is a SourceItem with its ``FhirInputError`` (paths into the resource), not an
exception, so one bad record never stops a stream of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from clotsafe.fhir.ehr import derive
from clotsafe.fhir.errors import FhirInputError, problem
from clotsafe.fhir.response import find_response, read_response
from clotsafe.rules.screener import Provenance, SourceItem


def questionnaire_response_source(obj: Any, at: date | None = None) -> Iterator[SourceItem]:
    """One QuestionnaireResponse; ``at`` defaults to its ``authored`` date."""
    ident = {"questionnaire_response": _response_ref(obj)}
    try:
        read = read_response(obj, at=at)
    except FhirInputError as exc:
        yield SourceItem(ident, None, exc)
        return
    yield SourceItem(ident, read.intake, None, _single(read.paths))


def ehr_source(
    obj: Any, at: date, *, patient_id: str | None = None, include_unverified: bool = False
) -> Iterator[SourceItem]:
    """EHR data of one patient at the screening date ``at`` (windows count back from it)."""
    try:
        facts = derive(obj, at=at, patient_id=patient_id, include_unverified=include_unverified)
        intake = facts.intake()
    except FhirInputError as exc:
        yield SourceItem({"patient": patient_id}, None, exc)
        return
    provenance = {k: tuple(refs) for k, refs in facts.sources.items()}
    yield SourceItem({"patient": facts.patient_ref}, intake, None, provenance)


def fhir_source(obj: Any, at: date | None = None) -> Iterator[SourceItem]:
    """A QuestionnaireResponse when ``obj`` holds one, else EHR data (which needs ``at``)."""
    if holds_response(obj):
        yield from questionnaire_response_source(obj, at)
    elif at is None:
        err = problem("", "missing_date", "EHR data needs the screening date: time windows "
                      "count back from it")  # fmt: skip
        yield SourceItem({}, None, FhirInputError([err]))
    else:
        yield from ehr_source(obj, at)


def holds_response(obj: Any) -> bool:
    """Whether ``obj`` is, or holds, a QuestionnaireResponse (else it is EHR data)."""
    try:
        find_response(obj)
    except FhirInputError:
        return False
    return True


def _response_ref(obj: Any) -> str | None:
    try:
        qr, _ = find_response(obj)
    except FhirInputError:
        return None
    rid = qr.get("id")
    return f"QuestionnaireResponse/{rid}" if isinstance(rid, str) else None


def _single(paths: Mapping[str, str]) -> Provenance:
    return {k: (v,) for k, v in paths.items()}
