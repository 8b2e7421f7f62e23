"""The question bank of INTAKE.md: ids, answer types, follow-up conditions, completeness.

This is the one source of truth for question ids and types; the intake model, the web form and
the FHIR Questionnaire are generated from it. Client-facing wording lives in
``clotsafe/knowledge/questions.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

AnswerType = Literal["tri", "date", "int", "number", "enum", "regions", "names", "clots"]
Section = Literal["red_flags", "clot_history", "medicines", "recent_events", "about_you"]

YES_OR_UNSURE = ("yes", "unsure")


@dataclass(frozen=True, slots=True)
class Condition:
    """``question`` has one of ``values`` (or, with ``negate``, none of them)."""

    question: str
    values: tuple[str, ...] = YES_OR_UNSURE
    negate: bool = False

    def holds(self, answers: Mapping[str, object]) -> bool:
        value = answers.get(self.question)
        if value is None:
            return self.negate
        return (value in self.values) != self.negate


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: AnswerType
    section: Section
    values: tuple[str, ...] = ()
    #: asked only when any of these holds (empty: always asked)
    enable_when: tuple[Condition, ...] = ()
    #: plausibility bounds for numbers (input validation, not clinical thresholds)
    minimum: float | None = None
    maximum: float | None = None

    def enabled(self, answers: Mapping[str, object]) -> bool:
        return not self.enable_when or any(c.holds(answers) for c in self.enable_when)


def _q(
    qid: str,
    type_: AnswerType,
    section: Section,
    *,
    values: tuple[str, ...] = (),
    when: tuple[Condition, ...] = (),
    lo: float | None = None,
    hi: float | None = None,
) -> Question:
    return Question(qid, type_, section, values, when, lo, hi)


def _if(*qids: str) -> tuple[Condition, ...]:
    return tuple(Condition(q) for q in qids)


NOT_MALE = (Condition("sex", ("male",), negate=True),)
LIMB_SIGNS = ("rf_limb_swelling", "rf_limb_pain", "rf_limb_skin", "rf_hard_vein")
PE_SIGNS = ("rf_breathless", "rf_chest_pain", "rf_cough_blood", "rf_faint")
CLOT_KINDS = ("dvt", "pe", "svt", "other", "unsure")
CLOT_TREATMENTS = ("ongoing", "finished", "none", "unsure")
CLOT_SITE_EXTRA = ("lung", "other", "unsure")
ANTICOAGULANTS = (
    "warfarin",
    "apixaban",
    "rivaroxaban",
    "dabigatran",
    "edoxaban",
    "enoxaparin",
    "dalteparin",
    "tinzaparin",
    "heparin",
    "fondaparinux",
    "other",
    "unsure",
)
ANTIPLATELETS = ("aspirin", "clopidogrel", "prasugrel", "ticagrelor", "other")
THROMBOPHILIA_MARKERS = (
    "factor_v_leiden",
    "prothrombin_20210a",
    "homocysteine",
    "lupus_anticoagulant",
    "anticardiolipin",
    "hit",
    "other",
)

QUESTIONS: tuple[Question, ...] = (
    # Red flags: right now, or new or getting worse in the last 14 days
    _q("rf_breathless", "tri", "red_flags"),
    _q("rf_chest_pain", "tri", "red_flags"),
    _q("rf_cough_blood", "tri", "red_flags"),
    _q("rf_faint", "tri", "red_flags"),
    _q("rf_heart_racing", "tri", "red_flags"),
    _q("rf_stroke_signs", "tri", "red_flags"),
    _q("rf_limb_swelling", "tri", "red_flags"),
    _q("rf_limb_pain", "tri", "red_flags"),
    _q("rf_limb_skin", "tri", "red_flags"),
    _q("rf_hard_vein", "tri", "red_flags"),
    _q("rf_limb_site", "regions", "red_flags", when=_if(*LIMB_SIGNS)),
    _q("rf_unusual_bleeding", "tri", "red_flags", when=_if("anticoagulant", "antiplatelet")),
    # Clot history
    _q("clot_ever", "tri", "clot_history"),
    _q("clots", "clots", "clot_history", when=_if("clot_ever")),
    _q("ivc_filter", "tri", "clot_history"),
    _q("ivc_filter_placed_on", "date", "clot_history", when=_if("ivc_filter")),
    _q("thrombophilia", "tri", "clot_history"),
    _q(
        "thrombophilia_markers",
        "names",
        "clot_history",
        values=THROMBOPHILIA_MARKERS,
        when=_if("thrombophilia"),
    ),
    _q("family_clots", "tri", "clot_history"),
    _q("pts", "tri", "clot_history", when=_if("clot_ever")),
    # Medicines
    _q("anticoagulant", "tri", "medicines"),
    _q(
        "anticoagulant_names",
        "names",
        "medicines",
        values=ANTICOAGULANTS,
        when=_if("anticoagulant"),
    ),
    _q("antiplatelet", "tri", "medicines"),
    _q("antiplatelet_names", "names", "medicines", values=ANTIPLATELETS, when=_if("antiplatelet")),
    _q("hormones", "tri", "medicines"),
    _q("platelets_low", "tri", "medicines"),
    _q("platelet_count", "number", "medicines", when=_if("platelets_low"), lo=0, hi=5000),
    # Recent events
    _q("surgery_recent", "tri", "recent_events"),
    _q("surgery_on", "date", "recent_events", when=_if("surgery_recent")),
    _q(
        "surgery_kind",
        "enum",
        "recent_events",
        values=("major", "minor", "joint_replacement_leg", "unsure"),
        when=_if("surgery_recent"),
    ),
    _q("surgery_site", "regions", "recent_events", when=_if("surgery_recent")),
    _q("leg_injury", "tri", "recent_events"),
    _q("leg_injury_on", "date", "recent_events", when=_if("leg_injury")),
    _q("leg_injury_ongoing", "tri", "recent_events", when=_if("leg_injury")),
    _q("leg_injury_site", "regions", "recent_events", when=_if("leg_injury")),
    _q("bed_rest", "tri", "recent_events"),
    _q("long_travel", "tri", "recent_events"),
    _q("pregnant", "tri", "recent_events", when=NOT_MALE),
    _q("pregnancy_weeks", "int", "recent_events", when=_if("pregnant"), lo=0, hi=45),
    _q("gave_birth", "tri", "recent_events", when=NOT_MALE),
    _q("birth_on", "date", "recent_events", when=_if("gave_birth")),
    _q("cesarean", "tri", "recent_events", when=_if("gave_birth")),
    _q("cancer_active", "tri", "recent_events"),
    _q("cancer_past", "tri", "recent_events"),
    _q("varicose", "tri", "recent_events"),
    _q(
        "varicose_severity",
        "enum",
        "recent_events",
        values=("mild", "marked"),
        when=_if("varicose"),
    ),
    _q("varicose_site", "regions", "recent_events", when=_if("varicose")),
    _q("lymphedema", "tri", "recent_events"),
    _q("lymphedema_site", "regions", "recent_events", when=_if("lymphedema")),
    # About you
    _q("age", "int", "about_you", lo=0, hi=130),
    _q("sex", "enum", "about_you", values=("female", "male", "other")),
    _q("height_cm", "number", "about_you", lo=30, hi=275),
    _q("weight_kg", "number", "about_you", lo=1, hi=700),
    _q("bmi", "number", "about_you", lo=5, hi=200),
    _q("heart_failure_recent", "tri", "about_you"),
    _q("lung_disease", "tri", "about_you"),
    _q("pneumonia_recent", "tri", "about_you"),
    _q("heart_attack_recent", "tri", "about_you"),
    _q("stroke_recent", "tri", "about_you"),
    _q("ibd", "tri", "about_you"),
    _q("sepsis_recent", "tri", "about_you"),
    _q("spinal_cord_injury_recent", "tri", "about_you"),
    _q("multiple_trauma_recent", "tri", "about_you"),
    _q("central_line", "tri", "about_you"),
    _q("bed_rest_medical", "tri", "about_you"),
    _q("pregnancy_loss_history", "tri", "about_you", when=NOT_MALE),
)

BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}
RED_FLAG_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS if q.section == "red_flags")
#: tri questions of the red-flag block that are always asked (the per-visit re-check)
RED_FLAG_TRI: tuple[str, ...] = (*PE_SIGNS, "rf_heart_racing", "rf_stroke_signs", *LIMB_SIGNS)

#: INTAKE.md "Which answers make a screening complete": always required ...
ALWAYS_REQUIRED: tuple[str, ...] = (
    *RED_FLAG_TRI,
    *("clot_ever", "anticoagulant", "antiplatelet", "surgery_recent", "leg_injury"),
    "cancer_active",
)
#: ... and these unless sex is male or age is under 12 or over 55
PREGNANCY_REQUIRED: tuple[str, ...] = ("pregnant", "gave_birth")

#: fields of one ``clots`` record
CLOT_FIELDS = ("kind", "site", "diagnosed_on", "treatment")
