"""CDS Hooks cards for every level: indicator, summary length, detail, links, PERC wording."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir_builders import AT, ICD, PATIENT_ID, bundle, condition, observation, patient

from clotsafe.domain.intake import parse_intake
from clotsafe.fhir.cds import (
    LETTER_LABEL,
    PREFETCH,
    Card,
    CardConfig,
    LetterRequest,
    build_card,
    patient_details,
)
from clotsafe.fhir.ehr import EhrFacts, derive
from clotsafe.fhir.risk import risk_assessment
from clotsafe.fhir.scores import score_findings
from clotsafe.fhir.service import handle
from clotsafe.rules import evaluate

NO = {q: "no" for q in ("rf_breathless", "rf_chest_pain", "rf_cough_blood", "rf_faint",
                        "rf_heart_racing", "rf_stroke_signs", "rf_limb_swelling", "rf_limb_pain",
                        "rf_limb_skin", "rf_hard_vein", "clot_ever", "anticoagulant",
                        "antiplatelet", "surgery_recent", "leg_injury", "cancer_active",
                        "pregnant", "gave_birth")}  # fmt: skip
CASES = [
    ("emergency", {"rf_breathless": "yes"}, "critical"),
    ("urgent_referral", {"rf_limb_swelling": "yes"}, "critical"),
    ("clearance_required", {"platelets_low": "yes"}, "warning"),
    ("adapt", {"long_travel": "yes"}, "warning"),
    ("standard", {}, "info"),
]


def _card(answers: dict, token: str | None = None) -> tuple[Card, str]:
    decision = evaluate(parse_intake({"screened_on": AT.isoformat(), "answers": answers}))
    card = build_card(decision, EhrFacts(at=AT), {}, CardConfig(), "p1", letter_token=token)
    return card, decision.level.value


@pytest.mark.parametrize(("level", "extra", "indicator"), CASES, ids=[c[0] for c in CASES])
def test_indicator_follows_the_level(level: str, extra: dict, indicator: str) -> None:
    """critical for emergency/urgent_referral, warning for clearance/adapt, info for standard."""
    card, got = _card({**NO, **extra})
    assert got == level
    assert card.indicator == indicator
    assert len(card.summary) < 140
    assert card.source.url and card.overrideReasons


def test_an_incomplete_standard_screening_is_never_info() -> None:
    """POLICY §2: an incomplete screening is not a green light, so never an info card."""
    card, level = _card({})
    assert level == "standard" and card.indicator == "warning"
    assert "incomplete" in card.summary.lower()


def test_summary_stays_under_140_with_many_reasons() -> None:
    """Many rules firing at once still give a summary under 140 characters."""
    many = {**NO, "rf_breathless": "yes", "rf_limb_swelling": "yes", "rf_heart_racing": "yes",
            "rf_stroke_signs": "yes", "anticoagulant": "yes", "rf_unusual_bleeding": "yes",
            "long_travel": "yes", "thrombophilia": "yes"}  # fmt: skip
    card, _ = _card(many)
    assert len(card.summary) < 140


@pytest.mark.parametrize(("level", "extra", "indicator"), CASES, ids=[c[0] for c in CASES])
def test_only_a_clearance_card_links_the_consultation_letter(
    level: str, extra: dict, indicator: str
) -> None:
    """POLICY §5: the letter asks the clinician for clearance, so only clearance_required cards
    link it (at the capability URL of its token); standard, adapt and the red flags never."""
    card, got = _card({**NO, **extra}, token="tok-123")
    assert got == level
    if level == "clearance_required":
        assert [(link.label, link.url, link.type) for link in card.links] == [
            (LETTER_LABEL, "http://127.0.0.1:8000/cds-services/letters/tok-123.pdf", "absolute")
        ]
    else:
        assert card.links == []


def test_no_letter_link_without_a_stored_letter() -> None:
    """A card whose letter was not stored (no letter store) carries no dead letter link."""
    card, level = _card({**NO, "platelets_low": "yes"})
    assert level == "clearance_required" and card.links == []


class _Letters:
    def __init__(self) -> None:
        self.issued: list[LetterRequest] = []

    def issue(self, letter: LetterRequest) -> str:
        self.issued.append(letter)
        return f"token-{len(self.issued)}"


def _hook(*resources: dict) -> dict:
    pre: dict = {k: {"resourceType": "Bundle", "type": "searchset", "entry": []}
                 for k in PREFETCH}  # fmt: skip
    pre["patient"] = resources[0]
    pre["conditions"]["entry"] = [{"resource": r} for r in resources[1:]]
    return {"hook": "patient-view", "hookInstance": "hook-1", "prefetch": pre,
            "context": {"patientId": PATIENT_ID, "userId": "Practitioner/7"}}  # fmt: skip


def test_hook_stores_a_letter_only_for_clearance_required() -> None:
    """A recent DVT (clearance_required): the letter store gets the decision, policy version,
    the patient's name and birth date, hook instance and EHR user; the card links the token.
    A record with no clot (not clearance_required) stores nothing and links nothing."""
    named = {**patient(), "name": [{"use": "official", "given": ["Ada"], "family": "Lovelace"}]}
    letters = _Letters()
    dvt = condition("I82.412", ICD, onset="2026-11-10", rid="dvt")
    result = handle("clotsafe-patient-view", _hook(named, dvt), today=AT, letters=letters)
    card = result.response["cards"][0]
    assert [link["url"] for link in card["links"]] == [
        "http://127.0.0.1:8000/cds-services/letters/token-1.pdf"
    ]
    (kept,) = letters.issued
    assert kept.decision["level"] == "clearance_required"
    assert kept.policy_version == kept.decision["policy_version"]
    assert (kept.patient_name, kept.birth_date) == ("Ada Lovelace", "1970-05-01")
    assert (kept.hook_instance, kept.user_id) == ("hook-1", "Practitioner/7")
    other = handle("clotsafe-patient-view", _hook(named), today=AT, letters=letters)
    assert other.response["cards"][0].get("links", []) == [] and len(letters.issued) == 1


def test_patient_details_prefers_official_name_and_reads_text() -> None:
    """The letter names the patient as the record does: official/usual name first, text as is;
    nothing made up when the record gives no name."""
    p = {"resourceType": "Patient", "name": [{"use": "nickname", "given": ["Addy"]},
                                             {"use": "usual", "text": "Ada King"}]}  # fmt: skip
    assert patient_details(p) == ("Ada King", "")
    assert patient_details({"resourceType": "Bundle", "entry": [{"resource": p}]})[0] == "Ada King"
    assert patient_details(patient()) == ("", "1970-05-01")
    assert patient_details(None) == ("", "")


def test_perc_on_a_card_says_it_never_clears_and_scores_do_not_change_the_level() -> None:
    """PERC is shown with its warning; the level comes from the rules alone."""
    facts = derive(bundle(patient(birth="1990-01-01"), condition("Z86.718", ICD),
                          observation("8867-4", 80, "/min"),
                          observation("59408-5", 98, "%", rid="o2")), at=AT)  # fmt: skip
    decision = evaluate(facts.intake(), at=AT)
    scores = score_findings(facts.findings, facts.finding_sources)
    card = build_card(decision, facts, scores, CardConfig(), "p1")
    assert "perc" in scores
    assert "never clears" in (card.detail or "")
    assert card.indicator == "warning"  # CLOT-ACTIVE (history code without a date)
    RiskAssessment.model_validate(risk_assessment(decision, patient_ref=facts.patient_ref))


def test_card_detail_is_in_words_not_ids_or_paths() -> None:
    """The clinician reads the card: what the record said is given as the question and its
    answer (never a question id or an answer path such as clots[0]), scores by their names, and
    the level and incomplete rule come from the one presenter."""
    facts = derive(bundle(patient(birth="1990-01-01"), condition("Z86.718", ICD),
                          observation("8867-4", 80, "/min"),
                          observation("59408-5", 98, "%", rid="o2")), at=AT)  # fmt: skip
    decision = evaluate(facts.intake(), at=AT)
    scores = score_findings(facts.findings, facts.finding_sources)
    detail = build_card(decision, facts, scores, CardConfig(), "p1").detail or ""
    assert "Clot 1" in detail and "clots[" not in detail
    assert "clot_ever" not in detail and "`" not in detail.split("**From the record**")[1]
    assert "PERC rule" in detail and "| perc |" not in detail
