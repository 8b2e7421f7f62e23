"""Caprini 2005 from the client intake (POLICY.md §4, INTAKE.md).

Each Caprini item is read from the intake answer of the same meaning (the table is in
docs/calculators.md). "unsure" counts as yes (POLICY §2); a missing answer makes the item
*unknown*, so it counts in the upper bound only. Items with no intake question of the same
meaning (planned operations, "other risk factors", a recent hip/pelvis/leg fracture) are *not
assessed*: they are listed in ``not_assessed`` and excluded from both bounds.

This runs for every intake of a batch, so the tables are built at import and a call does little
more than a few dozen dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from clotsafe.calculators.base import Finding, ScoreResult
from clotsafe.calculators.caprini import CAPRINI
from clotsafe.calculators.engine import SCOPE_NOTE
from clotsafe.domain.intake import Answers

#: "within 28 days" = on or after the screening date minus 28 days (INTAKE.md)
WINDOW_DAYS = 28

#: Caprini items with no intake question of the same meaning (POLICY §4), in table order
NOT_ASSESSED: tuple[str, ...] = (
    "minor_surgery",
    "other_risk_factors",
    "arthroscopic_surgery",
    "major_open_surgery",
    "laparoscopic_surgery",
    "elective_lower_extremity_arthroplasty",
    "hip_pelvis_leg_fracture_past_month",
)

#: items read from one yes/no/unsure question: (item id, question id)
DIRECT: tuple[tuple[str, str], ...] = (
    ("varicose_veins", "varicose"),
    ("inflammatory_bowel_disease", "ibd"),
    ("swollen_legs", "rf_limb_swelling"),
    ("acute_mi", "heart_attack_recent"),
    ("chf_past_month", "heart_failure_recent"),
    ("sepsis_past_month", "sepsis_recent"),
    ("lung_disease_past_month", "pneumonia_recent"),
    ("copd", "lung_disease"),
    ("bed_rest_medical", "bed_rest_medical"),
    ("confined_to_bed", "bed_rest"),
    ("central_venous_access", "central_line"),
    ("family_history_thrombosis", "family_clots"),
    ("stroke_past_month", "stroke_recent"),
    ("multiple_trauma_past_month", "multiple_trauma_recent"),
    ("spinal_cord_injury_past_month", "spinal_cord_injury_recent"),
)

#: thrombophilia items and their ``thrombophilia_markers`` names
MARKERS: tuple[tuple[str, str], ...] = (
    ("factor_v_leiden", "factor_v_leiden"),
    ("prothrombin_20210a", "prothrombin_20210a"),
    ("homocysteine", "homocysteine"),
    ("lupus_anticoagulant", "lupus_anticoagulant"),
    ("anticardiolipin", "anticardiolipin"),
    ("heparin_induced_thrombocytopenia", "hit"),
    ("other_thrombophilia", "other"),
)

#: clot kinds that are a history of DVT/PE ("unsure" counts as dvt, POLICY §2)
VTE_KINDS = frozenset({"dvt", "pe", "unsure"})

NOTES: tuple[str, ...] = (
    "Scored from the client intake: 'unsure' counts as yes; an unanswered question makes its "
    "item unknown (upper bound only).",
    f"Not assessed (no intake question of the same meaning; excluded from both bounds): "
    f"{', '.join(NOT_ASSESSED)}.",
    SCOPE_NOTE,
)

#: at most this many distinct results are memoised (then the memo starts again)
CACHE_SIZE = 4096
#: (present mask, unknown mask, band scheme id) -> result
_CACHE: dict[tuple[int, int, str], ScoreResult] = {}

_TRI: Mapping[Any, Finding] = {"yes": True, "unsure": True, "no": False}
_PLAN = CAPRINI.plan("2005", exclude=NOT_ASSESSED)
_IX = _PLAN.index
_N = len(_PLAN.items)
_SCHEME = CAPRINI.scheme("2005", None)
#: for every plan position, the question read directly ("" for items computed below)
_QIDS = tuple(dict(DIRECT).get(it.id, "") for it in _PLAN.items)
_MARKERS = tuple((_IX[item], name) for item, name in MARKERS)
_OTHER = _IX["other_thrombophilia"]
_AGE = tuple((_IX[r.item], r.test) for r in CAPRINI.rules if r.measurement == "age")
_BMI_OVER = next(r.test for r in CAPRINI.rules if r.measurement == "bmi")
_OBESE = _IX["obesity_bmi_over_25"]
_MAJOR = _IX["major_surgery_past_month"]
_CANCER = _IX["malignancy"]
_CAST = _IX["plaster_cast_past_month"]
_VTE = _IX["history_dvt_pe"]
_HORMONES = _IX["hormones"]
_PREGNANT = _IX["pregnancy_or_postpartum"]
_LOSS = _IX["pregnancy_loss_history"]

# the same tables as bits of the present/unknown masks (bit i = plan item i)
_DIRECT_BITS = tuple((q, 1 << i) for i, q in enumerate(_QIDS) if q)
_DERIVED_BITS = sum(1 << i for i, q in enumerate(_QIDS) if not q)
_AGE_TESTS = tuple((1 << i, test) for i, test in _AGE)
_AGE_BITS = sum(bit for bit, _ in _AGE_TESTS)
_OBESE_BIT, _MAJOR_BIT, _CANCER_BIT = 1 << _OBESE, 1 << _MAJOR, 1 << _CANCER
_CAST_BIT, _VTE_BIT, _OTHER_BIT = 1 << _CAST, 1 << _VTE, 1 << _OTHER
_MARKER_NAMES = tuple((1 << i, name) for i, name in _MARKERS)
_MARKER_BITS = sum(bit for bit, _ in _MARKER_NAMES)
_HORMONES_BIT, _PREGNANT_BIT, _LOSS_BIT = 1 << _HORMONES, 1 << _PREGNANT, 1 << _LOSS
_WOMEN_BITS = _HORMONES_BIT | _PREGNANT_BIT | _LOSS_BIT


def caprini_from_intake(answers: Answers, at: date, *, bands: str | None = None) -> ScoreResult:
    """Caprini 2005 of one intake at the screening date ``at`` (never the clock).

    ``bands`` picks the band scheme ("2005" by default, or "accp").

    One pass over the answers: each item's finding goes straight into two bit masks (present,
    unknown), which are the memo key; only a new combination builds the aligned findings and
    scores them through the calculator's plan (:func:`findings` gives them for any intake).
    """
    present, unknown = masks(answers.as_mapping(), at)
    scheme = _SCHEME if bands is None else CAPRINI.scheme("2005", bands)
    key = (present, unknown, scheme.id)
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.clear()
        hit = _CACHE[key] = CAPRINI.result(_PLAN, scheme, _unpack(present, unknown), NOTES)
    return hit


def masks(d: Mapping[str, Any], at: date) -> tuple[int, int]:
    """(present, unknown) of one intake's answers (every question id -> its answer, None
    where missing): bit i is plan item i (``PLAN.items``); a bit is never in both."""
    get = d.get
    present = 0
    unknown = _DERIVED_BITS  # items computed below start unknown, as in findings()
    for qid, bit in _DIRECT_BITS:
        a = get(qid)
        if a is None:
            unknown |= bit
        elif a != "no":
            present |= bit
    age = get("age")
    if age is not None:
        unknown &= ~_AGE_BITS
        for bit, test in _AGE_TESTS:
            if test(age):
                present |= bit
    for bit, f in (
        (_OBESE_BIT, _obesity(d)),
        (_MAJOR_BIT, _major_surgery(d, at)),
        (_CANCER_BIT, _or(_TRI.get(get("cancer_active")), _TRI.get(get("cancer_past")))),
        (_CAST_BIT, _plaster_cast(d, at)),
        (_VTE_BIT, _history_dvt_pe(d)),
    ):
        if f is not None:
            unknown &= ~bit
            if f:
                present |= bit
    present, unknown = _thrombophilia_bits(present, unknown, d)
    present, unknown = _women_only_bits(present, unknown, d, at)
    return present, unknown


def findings(answers: Answers, at: date) -> tuple[Finding, ...]:
    """The findings of every assessed item (plan order) read from one intake: the plain
    reading of the mapping documented in docs/calculators.md, and the reference the one-pass
    :func:`caprini_from_intake` is tested against."""
    d = answers.as_mapping()
    v: list[Finding] = list(map(_TRI.get, map(d.get, _QIDS)))
    age = d.get("age")
    if age is not None:
        for i, test in _AGE:
            v[i] = test(age)
    v[_OBESE] = _obesity(d)
    v[_MAJOR] = _major_surgery(d, at)
    v[_CANCER] = _or(_TRI.get(d.get("cancer_active")), _TRI.get(d.get("cancer_past")))
    v[_CAST] = _plaster_cast(d, at)
    v[_VTE] = _history_dvt_pe(d)
    _thrombophilia(v, d)
    _women_only(v, d, at)
    return tuple(v)


def _unpack(present: int, unknown: int) -> list[Finding]:
    """Aligned findings from the masks (a bit in both counts as present, as it never is)."""
    v: list[Finding] = [False] * _N
    for mask, value in ((unknown, None), (present, True)):
        while mask:
            low = mask & -mask
            v[low.bit_length() - 1] = value
            mask ^= low
    return v


def _thrombophilia_bits(present: int, unknown: int, d: Mapping[str, Any]) -> tuple[int, int]:
    """As :func:`_thrombophilia`, on the masks."""
    listed = d.get("thrombophilia_markers") or ()
    if listed:
        unknown &= ~_MARKER_BITS
        for bit, name in _MARKER_NAMES:
            if name in listed:
                present |= bit
        return present, unknown
    state = _TRI.get(d.get("thrombophilia"))
    if state is False:
        unknown &= ~_MARKER_BITS
    elif state:
        unknown &= ~_OTHER_BIT
        present |= _OTHER_BIT
    return present, unknown


def _women_only_bits(present: int, unknown: int, d: Mapping[str, Any], at: date) -> tuple[int, int]:
    """As :func:`_women_only`, on the masks."""
    if d.get("sex") == "male":
        return present, unknown & ~_WOMEN_BITS
    for bit, f in (
        (_HORMONES_BIT, _TRI.get(d.get("hormones"))),
        (_LOSS_BIT, _TRI.get(d.get("pregnancy_loss_history"))),
        (_PREGNANT_BIT, _or(_TRI.get(d.get("pregnant")), _postpartum(d, at))),
    ):
        if f is not None:
            unknown &= ~bit
            if f:
                present |= bit
    return present, unknown


def _within(on: date | None, at: date) -> bool:
    """No date counts as within the window (POLICY §2); day 28 is in, day 29 out."""
    return on is None or (at - on).days <= WINDOW_DAYS


def _or(a: Finding, b: Finding) -> Finding:
    """Three-valued OR: True wins, both False is False, otherwise unknown."""
    if a or b:
        return True
    return False if a is False and b is False else None


def _obesity(d: Mapping[str, Any]) -> Finding:
    """BMI > 25 from ``bmi`` or ``height_cm`` + ``weight_kg``; either source over 25 counts."""
    height, weight = d.get("height_cm"), d.get("weight_kg")
    computed = None if height is None or weight is None else weight / (height / 100.0) ** 2
    found: Finding = None
    for bmi in (d.get("bmi"), computed):
        if bmi is not None:
            if _BMI_OVER(bmi):
                return True
            found = False
    return found


def _major_surgery(d: Mapping[str, Any], at: date) -> Finding:
    """A major or joint-replacement operation (kind unsure or missing counts) in 28 days."""
    recent = _TRI.get(d.get("surgery_recent"))
    if not recent:
        return recent
    if not _within(d.get("surgery_on"), at):
        return False
    return d.get("surgery_kind") != "minor"


def _plaster_cast(d: Mapping[str, Any], at: date) -> Finding:
    """A leg injury still in a cast/boot/brace, or dated within 28 days (or undated).

    ``leg_injury_ongoing`` left unanswered reads as "unsure", i.e. still on (the project's
    ``missing_detail_as_unsure`` reading, docs/policy-readings.md).
    """
    injury = _TRI.get(d.get("leg_injury"))
    if not injury:
        return injury
    return _within(d.get("leg_injury_on"), at) or d.get("leg_injury_ongoing") != "no"


def _history_dvt_pe(d: Mapping[str, Any]) -> Finding:
    """A dvt/pe/unsure clot record, or any clot recorded in the lung (a pe, POLICY §8.3);
    absent when ``clot_ever`` is no or the records are svt/other elsewhere."""
    clots = d.get("clots") or ()
    for clot in clots:
        if clot.kind in VTE_KINDS or clot.site == "lung":
            return True
    if clots or d.get("clot_ever") == "no":
        return False
    return None


def _thrombophilia(v: list[Finding], d: Mapping[str, Any]) -> None:
    """Listed markers present, unlisted absent; yes with none listed is "other" (3)."""
    listed = d.get("thrombophilia_markers") or ()
    if listed:
        for i, name in _MARKERS:
            v[i] = name in listed
        return
    state = _TRI.get(d.get("thrombophilia"))
    if state is False:
        for i, _ in _MARKERS:
            v[i] = False
    elif state:
        v[_OTHER] = True


def _women_only(v: list[Finding], d: Mapping[str, Any], at: date) -> None:
    """Counted unless ``sex`` is "male" ("other" or missing: counted, the cautious reading)."""
    if d.get("sex") == "male":
        v[_HORMONES] = v[_PREGNANT] = v[_LOSS] = False
        return
    v[_HORMONES] = _TRI.get(d.get("hormones"))
    v[_LOSS] = _TRI.get(d.get("pregnancy_loss_history"))
    v[_PREGNANT] = _or(_TRI.get(d.get("pregnant")), _postpartum(d, at))


def _postpartum(d: Mapping[str, Any], at: date) -> Finding:
    gave_birth = _TRI.get(d.get("gave_birth"))
    if not gave_birth:
        return gave_birth
    return _within(d.get("birth_on"), at)
