"""The client intake as short steps over the question bank (INTAKE.md order).

A step shows only the questions that apply (``Question.enabled``); a step with none is skipped.
Red-flag steps come first, so an emergency is seen before anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clotsafe.domain.questions import BY_ID, QUESTIONS


@dataclass(frozen=True)
class Step:
    key: str
    questions: tuple[str, ...]
    #: the red-flag block is finished after this step: show the same-day screen if it applies
    red_flag_check: bool = False
    intro: str = ""


STEPS: tuple[Step, ...] = (
    Step("rf_lungs", ("rf_breathless", "rf_chest_pain", "rf_cough_blood", "rf_faint"),
         intro="red_flags"),
    Step("rf_heart", ("rf_heart_racing", "rf_stroke_signs"), intro="red_flags"),
    Step("rf_limbs", ("rf_limb_swelling", "rf_limb_pain", "rf_limb_skin", "rf_hard_vein",
                      "rf_limb_site"), red_flag_check=True, intro="red_flags"),
    Step("clots", ("clot_ever", "clots", "pts")),
    Step("clot_more", ("ivc_filter", "ivc_filter_placed_on", "thrombophilia",
                       "thrombophilia_markers", "family_clots")),
    Step("medicines", ("anticoagulant", "anticoagulant_names", "antiplatelet",
                       "antiplatelet_names", "rf_unusual_bleeding"), red_flag_check=True),
    Step("blood", ("hormones", "platelets_low", "platelet_count")),
    Step("surgery", ("surgery_recent", "surgery_on", "surgery_kind", "surgery_site")),
    Step("injury", ("leg_injury", "leg_injury_on", "leg_injury_ongoing", "leg_injury_site")),
    Step("sitting", ("bed_rest", "long_travel")),
    Step("you", ("age", "sex")),
    Step("pregnancy", ("pregnant", "pregnancy_weeks", "gave_birth", "birth_on", "cesarean")),
    Step("cancer", ("cancer_active", "cancer_past")),
    Step("veins", ("varicose", "varicose_severity", "varicose_site", "lymphedema",
                   "lymphedema_site")),
    Step("body", ("height_cm", "weight_kg")),
    Step("health", ("heart_failure_recent", "heart_attack_recent", "stroke_recent",
                    "pneumonia_recent", "sepsis_recent")),
    Step("health_more", ("lung_disease", "ibd", "spinal_cord_injury_recent",
                         "multiple_trauma_recent", "central_line", "bed_rest_medical",
                         "pregnancy_loss_history")),
)  # fmt: skip

BY_KEY = {s.key: s for s in STEPS}


def enabled(step: Step, answers: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(q for q in step.questions if BY_ID[q].enabled(answers))


def applicable(answers: Mapping[str, Any]) -> list[Step]:
    return [s for s in STEPS if enabled(s, answers)]


def position(step: Step, answers: Mapping[str, Any]) -> tuple[int, int]:
    """(1-based number of this step, number of steps that apply now)."""
    steps = applicable(answers)
    keys = [s.key for s in steps]
    index = keys.index(step.key) if step.key in keys else _nearest(step, keys)
    return index + 1, len(steps)


def _nearest(step: Step, keys: list[str]) -> int:
    order = [s.key for s in STEPS]
    before = [k for k in keys if order.index(k) < order.index(step.key)]
    return len(before)


def next_step(step: Step, answers: Mapping[str, Any]) -> Step | None:
    order = [s.key for s in STEPS]
    for s in STEPS[order.index(step.key) + 1 :]:
        if enabled(s, answers):
            return s
    return None


def previous_step(step: Step, answers: Mapping[str, Any]) -> Step | None:
    order = [s.key for s in STEPS]
    for s in reversed(STEPS[: order.index(step.key)]):
        if enabled(s, answers):
            return s
    return None


def prune(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Drop answers to follow-up questions whose trigger no longer holds."""
    out = dict(answers)
    changed = True
    while changed:
        changed = False
        for q in QUESTIONS:
            if q.id in out and not q.enabled(out):
                del out[q.id]
                changed = True
    return out
