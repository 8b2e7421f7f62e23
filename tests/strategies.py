"""Hypothesis strategies for intake JSON, driven by the question bank, plus the policy's ids.

Every question in ``clotsafe.domain.questions.QUESTIONS`` gets an answer strategy from its
*type* (``VALUE_STRATEGIES``), so a new question is generated as soon as it is added to the
bank; a new answer *type* needs one entry in ``VALUE_STRATEGIES`` (a test fails until it has
one). The spec constants below (rule ids, levels, completeness) are written from POLICY.md and
INTAKE.md, not read from the engine, so the tests check the engine against the documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from hypothesis import strategies as st

from clotsafe.domain.questions import BY_ID, QUESTIONS, Question
from clotsafe.domain.regions import GROUPS, REGIONS

# --- the policy's vocabulary (POLICY.md §1, §3, §7; INTAKE.md) ------------------------------

#: every rule id of POLICY.md §3, in POLICY order, with its level
RULE_LEVELS: dict[str, str] = {
    "RF-PE": "emergency",
    "RF-PE-HR": "emergency",
    "RF-STROKE": "emergency",
    "RF-HR": "urgent_referral",
    "RF-DVT": "urgent_referral",
    "RF-BLEED": "urgent_referral",
    "CLOT-ACTIVE": "clearance_required",
    "CLOT-HISTORY": "adapt",
    "IVC-FILTER-RECENT": "clearance_required",
    "IVC-FILTER": "adapt",
    "THROMBOPHILIA": "adapt",
    "PTS": "adapt",
    "MED-ANTICOAG": "adapt",
    "MED-ANTIPLATELET": "adapt",
    "PLATELETS-LOW": "clearance_required",
    "SURG-EARLY": "clearance_required",
    "SURG-MINOR": "adapt",
    "SURG-LATE": "adapt",
    "LEG-INJURY-EARLY": "clearance_required",
    "LEG-INJURY-LATE": "adapt",
    "BEDREST": "adapt",
    "TRAVEL": "adapt",
    "PREGNANCY": "adapt",
    "POSTPARTUM-EARLY": "adapt",
    "POSTPARTUM-LATE": "adapt",
    "CANCER": "adapt",
    "VARICOSE-MARKED": "adapt",
    "VARICOSE-MILD": "adapt",
    "LYMPHEDEMA": "adapt",
    "CAPRINI-HIGHEST": "adapt",
    "CAPRINI-HIGH": "adapt",
    # POLICY §8.6: a valid clearance's restrictions (one reason per such clearance)
    "CLEARANCE-RESTRICTIONS": "adapt",
}
RULE_IDS: tuple[str, ...] = tuple(RULE_LEVELS)
RED_FLAG_RULES = frozenset(r for r in RULE_IDS if r.startswith("RF-"))
#: reasons that no clearance may name (red flags, and the reason that comes from clearances)
NOT_CLEARABLE = RED_FLAG_RULES | {"CLEARANCE-RESTRICTIONS"}
CLEARABLE_RULES: tuple[str, ...] = tuple(r for r in RULE_IDS if r not in NOT_CLEARABLE)

LEVELS = ("standard", "adapt", "clearance_required", "urgent_referral", "emergency")
NO_MASSAGE_LEVELS = frozenset({"urgent_referral", "emergency"})
POSITIONS = ("any", "side_lying_preferred", "side_lying_or_semi_reclining")
URGENCIES = ("none", "suggested", "before_massage", "same_day", "emergency")
#: the referral urgency each level implies (POLICY §1)
LEVEL_URGENCY = dict(zip(LEVELS, ("none", "none", "before_massage", "same_day", "emergency"),
                         strict=True))  # fmt: skip

# --- completeness (INTAKE.md "Which answers make a screening complete") ---------------------

QUESTION_ORDER = {q.id: i for i, q in enumerate(QUESTIONS)}
ALWAYS_REQUIRED = (
    "rf_breathless", "rf_chest_pain", "rf_cough_blood", "rf_faint", "rf_heart_racing",
    "rf_stroke_signs", "rf_limb_swelling", "rf_limb_pain", "rf_limb_skin", "rf_hard_vein",
    "clot_ever", "anticoagulant", "antiplatelet", "surgery_recent", "leg_injury", "cancer_active",
)  # fmt: skip
YES_OR_UNSURE = ("yes", "unsure")


def takes_blood_thinner(answers: Mapping[str, Any]) -> bool:
    """Anticoagulant or antiplatelet yes/unsure, or a medicine of either kind named
    (docs/policy-readings.md ``named_medicines_count``)."""
    return any(answers.get(q) in YES_OR_UNSURE for q in ("anticoagulant", "antiplatelet")) or any(
        answers.get(q) for q in ("anticoagulant_names", "antiplatelet_names")
    )


def required_questions(answers: Mapping[str, Any]) -> list[str]:
    """The questions INTAKE.md requires for these answers, in INTAKE order."""
    req = list(ALWAYS_REQUIRED)
    if takes_blood_thinner(answers):
        req.append("rf_unusual_bleeding")
    if answers.get("clot_ever") == "yes":
        req.append("clots")
    age = answers.get("age")
    if answers.get("sex") != "male" and not (age is not None and (age < 12 or age > 55)):
        req += ["pregnant", "gave_birth"]
    return sorted(req, key=QUESTION_ORDER.__getitem__)


def is_answered(answers: Mapping[str, Any], qid: str) -> bool:
    """Answered as INTAKE.md counts it: present, and for ``clots`` at least one record."""
    value = answers.get(qid)
    return bool(value) if qid == "clots" else value is not None


def missing_required(answers: Mapping[str, Any]) -> list[str]:
    """What ``pending_questions`` must list for these answers."""
    return [q for q in required_questions(answers) if not is_answered(answers, q)]


# --- answer values by question type ---------------------------------------------------------
# Strategies are built once per question and rate (building them per draw is slow); dates are
# drawn as a number of days before ``screened_on`` and turned into dates afterwards.

#: how far back generated dates reach: past every window of POLICY §3 (90 days) and a clearance
LOOKBACK_DAYS = 400
REGION_NAMES = (*REGIONS, *GROUPS)
CLOT_SITES = (*REGION_NAMES, "lung", "other", "unsure")
POSITIVE_PERCENTS = (0, 5, 15, 30, 50)


@dataclass(frozen=True, slots=True)
class DaysBack:
    """A date answer, ``days`` before the screening date (resolved by :func:`resolve_dates`)."""

    days: int


DAYS_BACK = st.one_of(
    st.sampled_from((0, 27, 28, 29, 42, 43, 84, 85, 90, 91)),  # the policy's window edges
    st.integers(0, LOOKBACK_DAYS),
).map(DaysBack)


def tri(positive_percent: int) -> st.SearchStrategy[str]:
    """A tri answer: "no" most of the time (it shrinks to "no"), else "yes" or "unsure"."""
    cut = 100 - positive_percent
    return st.integers(0, 99).map(lambda i: "no" if i < cut else ("yes" if i % 2 else "unsure"))


@cache
def tri_or_absent(positive_percent: int) -> st.SearchStrategy[str | None]:
    """A tri answer or ``None`` (question absent, 40 %); shrinks to absent, then to "no"."""
    cut = 40 + 60 * (100 - positive_percent) // 100
    return st.integers(0, 99).map(
        lambda i: None if i < 40 else "no" if i < cut else ("yes" if i % 2 else "unsure")
    )


def _int(q: Question, _: int) -> st.SearchStrategy[Any]:
    return st.integers(int(q.minimum or 0), int(q.maximum if q.maximum is not None else 200))


def _number(q: Question, _: int) -> st.SearchStrategy[Any]:
    lo = q.minimum if q.minimum is not None else 0.0
    hi = q.maximum if q.maximum is not None else 1000.0
    return st.one_of(st.integers(int(lo), int(hi)),
                     st.floats(lo, hi, allow_nan=False, allow_infinity=False))  # fmt: skip


CLOT_RECORDS = st.lists(
    st.fixed_dictionaries(
        {"kind": st.sampled_from(("dvt", "pe", "svt", "other", "unsure"))},
        optional={
            "site": st.sampled_from(CLOT_SITES),
            "diagnosed_on": st.one_of(st.none(), DAYS_BACK),
            "treatment": st.sampled_from(("ongoing", "finished", "none", "unsure")),
        },
    ),
    min_size=1,
    max_size=3,
)
REGION_LISTS = st.lists(st.sampled_from(REGION_NAMES), min_size=1, max_size=3, unique=True)

ValueStrategy = Callable[[Question, int], st.SearchStrategy[Any]]
#: one entry per answer type of INTAKE.md; a question of a new type fails until added here
VALUE_STRATEGIES: dict[str, ValueStrategy] = {
    "tri": lambda q, pct: tri(pct),
    "date": lambda q, pct: DAYS_BACK,
    "int": _int,
    "number": _number,
    "enum": lambda q, pct: st.sampled_from(q.values),
    "regions": lambda q, pct: REGION_LISTS,
    "names": lambda q, pct: st.lists(st.sampled_from(q.values), min_size=1, unique=True),
    "clots": lambda q, pct: CLOT_RECORDS,
}


@cache
def answer_value(qid: str, positive_percent: int) -> st.SearchStrategy[Any]:
    """The strategy for one question's answer, chosen by its type (dates as :class:`DaysBack`)."""
    q = BY_ID[qid]
    return VALUE_STRATEGIES[q.type](q, positive_percent)


def resolve_dates(value: Any, screened_on: date) -> Any:
    """Turn every :class:`DaysBack` inside an answer into a ``YYYY-MM-DD`` string."""
    if isinstance(value, DaysBack):
        return (screened_on - timedelta(days=value.days)).isoformat()
    if isinstance(value, list):
        return [resolve_dates(v, screened_on) for v in value]
    if isinstance(value, dict):
        return {k: resolve_dates(v, screened_on) for k, v in value.items()}
    return value


# --- clearances (POLICY §5) -----------------------------------------------------------------

RESTRICTIONS = st.fixed_dictionaries(
    {},
    optional={
        "pressure_max": st.dictionaries(
            st.sampled_from(REGION_NAMES), st.integers(0, 5), max_size=3
        ),
        "avoid": st.lists(st.sampled_from(REGION_NAMES), max_size=2, unique=True),
        "notes": st.sampled_from(("", "No deep work near the clot.")),
    },
)
CLEARANCE_PARTS = st.tuples(
    st.lists(st.sampled_from(CLEARABLE_RULES), min_size=1, max_size=3, unique=True),
    st.integers(0, 200),  # days before screened_on
    st.one_of(st.none(), st.integers(0, 200)),  # valid_until: days after the date
    st.one_of(st.none(), RESTRICTIONS),
)


def make_clearance(parts: tuple[Any, ...], screened_on: date) -> dict[str, Any]:
    """A recorded clearance of clearable rules, dated on or before ``screened_on``."""
    rules, back, valid_days, restrictions = parts
    on = screened_on - timedelta(days=back)
    c: dict[str, Any] = {"rules": rules, "clinician": "Dr Generated", "date": on.isoformat()}
    if valid_days is not None:
        c["valid_until"] = (on + timedelta(days=valid_days)).isoformat()
    if restrictions is not None:
        c["restrictions"] = restrictions
    return c


# --- whole intakes --------------------------------------------------------------------------

SCREENED_ON = st.dates(date(2020, 1, 1), date(2030, 12, 31))


@st.composite
def intakes(draw: st.DrawFn, *, complete: bool = False, with_clearances: bool = True,
            questions: tuple[Question, ...] = QUESTIONS) -> dict[str, Any]:  # fmt: skip
    """A valid intake JSON object (INTAKE.md), with optional clearances (POLICY §5).

    Each question of the bank is present or absent; tri answers are mostly "no" at a rate drawn
    per intake, and the red flags are often all quiet so that the non-emergency rules get
    exercised. With ``complete=True`` every question INTAKE.md requires is answered.
    """
    screened_on = draw(SCREENED_ON)
    pct = draw(st.sampled_from(POSITIVE_PERCENTS[1:]))
    quiet_red_flags = draw(st.booleans())
    answers: dict[str, Any] = {}
    for q in questions:
        quiet = quiet_red_flags and q.section == "red_flags"
        if q.type == "tri":  # one draw for "absent or which answer" keeps generation fast
            value = draw(tri_or_absent(0 if quiet else pct))
            if value is not None:
                answers[q.id] = value
        elif draw(st.booleans()):
            answers[q.id] = draw(answer_value(q.id, 0 if quiet else pct))
    if complete:
        _complete(draw, answers, pct, quiet_red_flags)
    answers = {k: resolve_dates(v, screened_on) for k, v in answers.items()}
    obj: dict[str, Any] = {"screened_on": screened_on.isoformat(), "answers": answers}
    if with_clearances and draw(st.booleans()):
        parts = draw(st.lists(CLEARANCE_PARTS, min_size=1, max_size=2))
        obj["clearances"] = [make_clearance(p, screened_on) for p in parts]
    return obj


def _complete(draw: st.DrawFn, answers: dict[str, Any], pct: int, quiet_red_flags: bool) -> None:
    """Answer every required question (requirements can grow as answers are added)."""
    while missing := missing_required(answers):
        for qid in missing:
            quiet = quiet_red_flags and qid.startswith("rf_")
            answers[qid] = draw(answer_value(qid, 0 if quiet else pct))
    if answers.get("clot_ever") == "unsure" and not answers.get("clots"):
        # INTAKE.md requires records only for "yes"; keep "unsure" unambiguous for the tests
        answers["clots"] = draw(CLOT_RECORDS)


TRI_QUESTIONS: tuple[str, ...] = tuple(q.id for q in QUESTIONS if q.type == "tri")
