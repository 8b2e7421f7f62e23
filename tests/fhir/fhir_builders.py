"""Factories for hand-built FHIR R4 resources and bundles (Synthea's shape: urn:uuid fullUrls)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from clotsafe.fhir.codes import ICD10CM, LOINC, RXNORM, SNOMED
from clotsafe.fhir.questionnaire import clot_value_set, system_for

AT = date(2026, 11, 25)
PATIENT_ID = "p1"


def ago(days: int) -> str:
    return (AT - timedelta(days=days)).isoformat()


def patient(pid: str = PATIENT_ID, birth: str = "1970-05-01", gender: str = "female") -> dict:
    return {"resourceType": "Patient", "id": pid, "birthDate": birth, "gender": gender}


def _cc(system: str, code: str, display: str = "") -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def condition(code: str, system: str = SNOMED, *, onset: str | None = None, rid: str = "c1",
              status: str | None = "active", abated: str | None = None,
              pid: str = PATIENT_ID) -> dict:  # fmt: skip
    r: dict[str, Any] = {"resourceType": "Condition", "id": rid, "code": _cc(system, code),
                         "subject": {"reference": f"Patient/{pid}"}}  # fmt: skip
    if status:
        r["clinicalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                           "condition-clinical", "code": status}]}  # fmt: skip
    if onset:
        r["onsetDateTime"] = onset
    if abated:
        r["abatementDateTime"] = abated
    return r


def med_request(rxcui: str, *, rid: str = "m1", status: str = "active",
                authored: str | None = None, pid: str = PATIENT_ID) -> dict:  # fmt: skip
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": _cc(RXNORM, rxcui),
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": authored or ago(30),
    }


def med_statement(rxcui: str, *, rid: str = "ms1", status: str = "active") -> dict:
    return {
        "resourceType": "MedicationStatement",
        "id": rid,
        "status": status,
        "medicationCodeableConcept": _cc(RXNORM, rxcui),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": ago(100),
    }


def observation(loinc: str, value: float, unit: str, *, rid: str = "o1", when: str | None = None
                ) -> dict:  # fmt: skip
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": _cc(LOINC, loinc), "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "effectiveDateTime": when or ago(0),
            "valueQuantity": {"value": value, "unit": unit, "code": unit,
                              "system": "http://unitsofmeasure.org"}}  # fmt: skip


def procedure(snomed: str, *, rid: str = "pr1", when: str | None = None) -> dict:
    return {
        "resourceType": "Procedure",
        "id": rid,
        "status": "completed",
        "code": _cc(SNOMED, snomed),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "performedPeriod": {"start": when or ago(10), "end": when or ago(10)},
    }


def encounter_inpatient(rid: str = "e1") -> dict:
    return {
        "resourceType": "Encounter",
        "id": rid,
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }


def bundle(*resources: dict, uuid_refs: bool = False) -> dict:
    """A collection Bundle; with ``uuid_refs`` the patient is referred to as urn:uuid (Synthea)."""
    entries = []
    for r in resources:
        full = f"urn:uuid:{r['resourceType'].lower()}-{r.get('id', 'x')}"
        if uuid_refs and r["resourceType"] != "Patient" and "subject" in r:
            r = {**r, "subject": {"reference": f"urn:uuid:patient-{PATIENT_ID}"}}
        entries.append({"fullUrl": full, "resource": r})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


ICD = ICD10CM

# --- QuestionnaireResponse helpers ----------------------------------------------------------

TRI = system_for("tri")


def tri(qid: str, value: str) -> dict:
    return {"linkId": qid, "answer": [{"valueCoding": {"system": TRI, "code": value}}]}


def clot_item(kind: str = "dvt", site: str | None = None, diagnosed: str | None = None,
              treatment: str | None = None) -> dict:  # fmt: skip
    items = []
    for name, value in (("kind", kind), ("site", site), ("treatment", treatment)):
        if value is not None:
            system, _ = clot_value_set(name)
            items.append(
                {
                    "linkId": f"clots.{name}",
                    "answer": [{"valueCoding": {"system": system, "code": value}}],
                }
            )
    if diagnosed:
        items.append({"linkId": "clots.diagnosed_on", "answer": [{"valueDate": diagnosed}]})
    return {"linkId": "clots", "item": items}


ALL_NO = ("rf_breathless", "rf_chest_pain", "rf_cough_blood", "rf_faint", "rf_heart_racing",
          "rf_stroke_signs", "rf_limb_swelling", "rf_limb_pain", "rf_limb_skin", "rf_hard_vein",
          "clot_ever", "anticoagulant", "antiplatelet", "surgery_recent", "leg_injury",
          "cancer_active", "pregnant", "gave_birth")  # fmt: skip


def response(*items: dict, status: str = "completed") -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "status": status,
        "questionnaire": "https://clotsafe.example.org/fhir/Questionnaire/clotsafe-intake",
        "authored": f"{AT.isoformat()}T09:00:00Z",
        "item": list(items),
    }


def complete_response(*overrides: dict, status: str = "completed") -> dict:
    """A completed response answering every required question "no", then ``overrides``."""
    given = {i["linkId"] for i in overrides}
    items = [tri(q, "no") for q in ALL_NO if q not in given]
    return response(*items, *overrides, status=status)
