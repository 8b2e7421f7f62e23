"""CDS Hooks cards for every level: indicator, summary length, detail, links, PERC wording."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir_builders import AT, ICD, bundle, condition, observation, patient

from clotsafe.domain.intake import parse_intake
from clotsafe.fhir.cds import Card, CardConfig, build_card
from clotsafe.fhir.ehr import EhrFacts, derive
from clotsafe.fhir.risk import risk_assessment
from clotsafe.fhir.scores import score_findings
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


def _card(answers: dict) -> tuple[Card, str]:
    decision = evaluate(parse_intake({"screened_on": AT.isoformat(), "answers": answers}))
    return build_card(decision, EhrFacts(at=AT), {}, CardConfig(), "p1"), decision.level.value


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


def test_clearance_card_links_the_consultation_letter() -> None:
    """clearance_required: the card links to the letter for the treating clinician."""
    card, _ = _card({**NO, "platelets_low": "yes"})
    assert any("letter" in link.url for link in card.links)


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
