"""The decision as a FHIR R4 ``RiskAssessment`` for systems that want to store it.

``basis`` lists the policy rules that fired (as canonical PlanDefinition references under
clotsafe's base URL) and the EHR resources the answers came from; ``prediction`` carries the
level; ``mitigation`` the session plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clotsafe.domain.decision import Decision
from clotsafe.domain.types import Level
from clotsafe.fhir.questionnaire import CANONICAL_BASE, system_for
from clotsafe.render.present import plan_lines

RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
_QUALITATIVE = {Level.STANDARD: "low", Level.ADAPT: "moderate",
                Level.CLEARANCE_REQUIRED: "high", Level.URGENT_REFERRAL: "high",
                Level.EMERGENCY: "high"}  # fmt: skip


def risk_assessment(decision: Decision, *, patient_ref: str | None,
                    sources: Mapping[str, list[str]] | None = None) -> dict[str, Any]:  # fmt: skip
    """The RiskAssessment resource (FHIR R4 JSON)."""
    out: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "final" if decision.complete else "preliminary",
        "method": {"coding": [{"system": system_for("policy"),
                               "code": f"clotsafe-policy-{decision.policy_version}",
                               "display": "clotsafe blood-clot screening policy for massage"}]},
        "code": {"text": "Safety of massage with respect to blood clots (venous "
                 "thromboembolism)"},
        "occurrenceDateTime": decision.screened_on.isoformat(),
        "basis": _basis(decision, sources or {}),
        "prediction": [_prediction(decision)],
        "mitigation": "; ".join(plan_lines(decision)),
        "note": _notes(decision),
    }  # fmt: skip
    if patient_ref:
        out["subject"] = {"reference": patient_ref}
    else:
        out["subject"] = {"display": "the screened client"}
    return out


def _basis(decision: Decision, sources: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    basis = [
        {
            "reference": f"{CANONICAL_BASE}/PlanDefinition/{r.rule}",
            "display": f"{r.rule} ({r.level.value}): {r.summary}",
        }
        for r in decision.reasons
    ]
    seen: set[str] = set()
    for refs in sources.values():
        for ref in refs:
            if ref not in seen and "/" in ref and not ref.startswith("entry["):
                seen.add(ref)
                basis.append({"reference": ref})
    return basis


def _prediction(decision: Decision) -> dict[str, Any]:
    level = decision.level
    return {
        "outcome": {"coding": [{"system": system_for("level"), "code": level.value}],
                    "text": level.value.replace("_", " ")},
        "qualitativeRisk": {"coding": [{"system": RISK_PROBABILITY,
                                        "code": _QUALITATIVE[level]}]},
        "rationale": "; ".join(f"{r.rule}: {r.summary}" for r in decision.reasons)
        or "No rule of the policy fired.",
    }  # fmt: skip


def _notes(decision: Decision) -> list[dict[str, str]]:
    notes = [{"text": "Decision support for a trained massage therapist, not a diagnosis."}]
    if not decision.complete:
        notes.append(
            {
                "text": "Screening incomplete: ask these before any massage: "
                + ", ".join(decision.pending_questions)
            }
        )
    return notes
