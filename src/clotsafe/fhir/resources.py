"""Reading FHIR resources defensively: collect them, check references, read dates and codes.

Only the elements clotsafe uses are read; a malformed element that matters is a problem with a
path (``entry[3].resource.code``), never an exception from deep inside.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from clotsafe.domain.errors import FieldError
from clotsafe.fhir.errors import FhirInputError, join, problem

#: resource types the EHR path reads; others in a bundle are skipped
USED_TYPES = frozenset({"Patient", "Condition", "MedicationRequest", "MedicationStatement",
                        "MedicationAdministration", "Medication", "Observation", "Procedure",
                        "Encounter"})  # fmt: skip


@dataclass(slots=True)
class Res:
    """One resource with its path in the input and the reference that names it.

    Not ``frozen``: a frozen dataclass is built through ``object.__setattr__`` for each field,
    3.7 x the cost (0.51 against 0.14 µs), and one is built for every resource read (245 a CDS
    call on the Synthea record, 300,000 in a bulk screening of 10,000 patients). Nothing
    changes one once built, and none is hashed (``data`` is a dict)."""

    data: Mapping[str, Any]
    path: str
    ref: str
    type: str


def _ref_of(resource: Mapping[str, Any], path: str, full_url: Any) -> str:
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return f"{resource.get('resourceType')}/{rid}"
    return full_url if isinstance(full_url, str) and full_url else path


def collect(obj: Any) -> list[Res]:
    """The resources in a Bundle, a list of resources, one resource, or a CDS prefetch object."""
    out: list[Res] = []
    errors: list[FieldError] = []
    _collect(obj, "", None, out, errors)
    if errors:
        raise FhirInputError(errors)
    return out


def _collect(obj: Any, path: str, full_url: Any, out: list[Res], errors: list[FieldError]) -> None:
    if isinstance(obj, list):
        for i, x in enumerate(obj):
            _collect(x, join(path, f"[{i}]"), None, out, errors)
        return
    if not isinstance(obj, dict):
        errors.append(problem(path, "not_an_object", "expected a FHIR resource (JSON object)"))
        return
    kind = obj.get("resourceType")
    if not isinstance(kind, str):
        errors.append(problem(join(path, "resourceType"), "missing_resource_type",
                              "every FHIR resource needs a resourceType", kind))  # fmt: skip
    elif kind == "Bundle":
        _bundle(obj, path, out, errors)
    elif kind not in USED_TYPES:
        return  # OperationOutcome (a query the EHR could not answer), Claim, ...: not read
    else:
        out.append(Res(obj, path, _ref_of(obj, path, full_url), kind))


def _bundle(obj: Mapping[str, Any], path: str, out: list[Res], errors: list[FieldError]) -> None:
    entries = obj.get("entry") or []
    if not isinstance(entries, list):
        errors.append(problem(join(path, "entry"), "invalid_fhir", "Bundle.entry must be a list"))
        return
    prefix = f"{path}.entry" if path else "entry"
    for i, e in enumerate(entries):
        res = e.get("resource") if isinstance(e, dict) else None
        if res is None:
            continue  # entries without a resource (e.g. search links) carry no data
        kind = res.get("resourceType") if isinstance(res, dict) else None
        rpath = f"{prefix}[{i}].resource"
        if isinstance(kind, str) and kind in USED_TYPES:  # the common case, without recursion
            out.append(Res(res, rpath, _ref_of(res, rpath, e.get("fullUrl")), kind))
        else:
            _collect(res, rpath, e.get("fullUrl"), out, errors)


def collect_prefetch(prefetch: Mapping[str, Any]) -> list[Res]:
    """The resources of a CDS Hooks prefetch object (values may be null: not prefetched)."""
    out: list[Res] = []
    errors: list[FieldError] = []
    for key, value in prefetch.items():
        if value is not None:
            _collect(value, f"prefetch.{key}", None, out, errors)
    if errors:
        raise FhirInputError(errors)
    return out


def find_patient(resources: list[Res], patient_id: str | None = None) -> Res | None:
    """The one Patient; two different patients in one input is an error, and so is one patient
    given twice with different content (which one to read would be a guess)."""
    patients = by_ref(resources, "Patient", "several_patients")
    if patient_id is not None:
        wanted = f"Patient/{patient_id}"
        others = [r for ref, r in patients.items() if ref != wanted]
        if others:
            raise FhirInputError([problem(others[0].path, "wrong_patient",
                                          f"expected {wanted}, got {others[0].ref}",
                                          others[0].ref)])  # fmt: skip
        return patients.get(wanted)
    if len(patients) > 1:
        second = list(patients.values())[1]
        raise FhirInputError([problem(second.path, "several_patients",
                                      "the input holds more than one Patient; send one "
                                      "patient's record", second.ref)])  # fmt: skip
    return next(iter(patients.values()), None)


#: what the reader reads of the resources it looks up by id (``fhir/ehr.py``): two copies of
#: one that agree on these are one resource, whatever else differs (a version, a narrative, a
#: subset an EHR sent under a second prefetch key)
READ_FIELDS = {"Patient": ("birthDate", "gender"), "Medication": ("code",)}


def by_ref(resources: list[Res], kind: str, code: str) -> dict[str, Res]:
    """The resources of type ``kind`` by reference (``Patient/p1``), the first of each. A
    second one with the same reference that differs in what the reader reads of it
    (:data:`READ_FIELDS`) is the error ``code``: never read as "the last one wins" (a
    Patient's birth date, a Medication's code)."""
    out: dict[str, Res] = {}
    fields = READ_FIELDS[kind]
    for r in resources:
        if r.type != kind:
            continue
        first = out.setdefault(r.ref, r)
        if first is not r and any(first.data.get(f) != r.data.get(f) for f in fields):
            raise FhirInputError([problem(r.path, code, f"the input holds two different {kind} "
                                          f"resources with the same id ({r.ref}); send one",
                                          r.ref)])  # fmt: skip
    return out


def check_subjects(resources: list[Res], patient: Res | None, full_urls: set[str]) -> None:
    """Every subject/patient reference must name the patient: broken references are errors."""
    if patient is None:
        return
    pid = patient.data.get("id")
    ok = {patient.ref, *full_urls, *([f"urn:uuid:{pid}"] if isinstance(pid, str) else [])}
    errors = []
    for r in resources:
        if r.type not in USED_TYPES or r.type in ("Patient", "Medication"):
            continue
        for key in ("subject", "patient"):
            ref = r.data.get(key)
            if ref is None:
                continue
            err = _subject_problem(ref, ok, r.path, key)
            if err is not None:
                errors.append(err)
    if errors:
        raise FhirInputError(errors)


def _subject_problem(ref: Any, ok: set[str], at: str, key: str) -> FieldError | None:
    """The problem with ``ref`` (the element ``key`` of the resource at ``at``), if any; the
    path is built only for a problem (this runs for every resource a screening reads)."""
    target = ref.get("reference") if isinstance(ref, dict) else None
    if not isinstance(target, str):
        if isinstance(ref, dict) and ("identifier" in ref or "display" in ref):
            return None  # a logical reference clotsafe cannot check; the query was scoped
        return problem(join(at, f"{key}.reference"), "broken_reference",
                       "expected a Reference with a reference string", target)  # fmt: skip
    if target in ok or any(target.endswith("/" + o) for o in ok if o.startswith("Patient/")):
        return None
    return problem(join(at, f"{key}.reference"), "broken_reference",
                   "this resource is about another patient (or a patient not in the input)",
                   target)  # fmt: skip


def patient_full_urls(obj: Any) -> set[str]:
    """fullUrl values of Patient entries (Synthea refers to the patient as urn:uuid:...)."""
    out: set[str] = set()
    if isinstance(obj, dict) and obj.get("resourceType") == "Bundle":
        for e in obj.get("entry") or ():
            res = e.get("resource") if isinstance(e, dict) else None
            url = e.get("fullUrl") if isinstance(e, dict) else None
            if (
                isinstance(res, dict)
                and res.get("resourceType") == "Patient"
                and isinstance(url, str)
            ):
                out.add(url)
    elif isinstance(obj, dict) and obj.get("resourceType") is None:
        for v in obj.values():
            out |= patient_full_urls(v)
    return out


# --- dates ----------------------------------------------------------------------------------


def fhir_date(value: Any, *, latest: bool = True) -> date | None:
    """A FHIR date/dateTime as a date; a partial date takes its latest (or earliest) day."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    head = value[:10]
    if len(head) == 10 and head[4] == "-" and head[7] == "-":
        # the usual full date, read by the C parser (a bulk screening reads ~30 dates a
        # patient); kept only when it is the very same text, so "2019-W01-1" (an ISO week
        # date, which the parser also takes) still goes the way below, to None
        try:
            d = date.fromisoformat(head)
        except ValueError:
            d = None
        if d is not None and d.isoformat() == head:
            return d
    try:
        parts = head.split("-")
        year = int(parts[0])
        if len(parts) == 1:
            return date(year, 12, 31) if latest else date(year, 1, 1)
        month = int(parts[1])
        if len(parts) == 2:
            last = calendar.monthrange(year, month)[1]
            return date(year, month, last if latest else 1)
        return date(year, month, int(parts[2]))
    except (ValueError, OverflowError):  # OverflowError: a year of ten digits, "9999999999"
        return None


def first_date(data: Mapping[str, Any], *keys: str) -> date | None:
    """The first date found among ``keys`` (``onsetPeriod`` reads its start)."""
    for key in keys:
        v = data.get(key)
        if isinstance(v, dict):
            v = v.get("start") or v.get("end")
        d = fhir_date(v)
        if d is not None:
            return d
    return None


def period_end(data: Mapping[str, Any], key: str) -> date | None:
    v = data.get(key)
    return fhir_date(v.get("end")) if isinstance(v, dict) else None


# --- codes ----------------------------------------------------------------------------------


def codings(concept: Any) -> Iterator[tuple[str | None, str, int]]:
    """(system, code, index) of each Coding of a CodeableConcept that has a string code."""
    if not isinstance(concept, dict):
        return
    raw = concept.get("coding")
    for i, c in enumerate(raw if isinstance(raw, list) else ()):
        if isinstance(c, dict) and isinstance(c.get("code"), (str, int)):
            system = c.get("system")
            yield (system if isinstance(system, str) else None), str(c["code"]), i


def status_code(data: Mapping[str, Any], key: str) -> str | None:
    """The code of a status CodeableConcept (Condition.clinicalStatus) or a plain code string."""
    v = data.get(key)
    if isinstance(v, str):
        return v
    for _system, code, _i in codings(v):
        return code
    return None
