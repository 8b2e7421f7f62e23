"""Caprini 2005 from the intake, straight to what a decision holds: for the batch fast path.

:func:`score` takes the answers (every question id -> its answer, None where missing) and the
screening date, and returns a :class:`Scored`: the bounds, the JSON of
``caprini_from_intake(...).summary()`` and the answers the CAPRINI-* rules report. It reads the
answers in one pass into the present and unknown items as bit masks (:func:`masks`: the
reference's ``caprini_intake.masks``, calling the same helpers, with its questions loop and
the one-line items written in line) and then scores the masks directly from the calculator's
compiled plan (points, exclusive groups, bands) instead of building a
:class:`~.base.ScoreResult` and serialising it: on intakes as varied as
``benchmarks/gen_intakes.py`` writes, most combinations are new, and building the result object
was most of their cost.

The reference stays ``caprini_intake.caprini_from_intake`` (the default band scheme, "2005");
tests/calculators/test_caprini_fast.py proves the output byte-identical to it on random masks
and intakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import orjson

from clotsafe.calculators import caprini_intake as ci
from clotsafe.calculators.caprini_intake import (
    _PLAN,
    _SCHEME,
    _history_dvt_pe,
    _obesity,
    _or,
    _thrombophilia_bits,
    _within,
)

__all__ = ["CACHE_SIZE", "Scored", "score", "score_masks"]

#: at most this many distinct results are memoised (then the memo starts again)
CACHE_SIZE = 4096


class Scored:
    """One Caprini result as the decision writes it."""

    __slots__ = ("answers", "answers_json", "lower", "summary_json", "upper")

    def __init__(self, lower: float, upper: float, summary_json: bytes, answers: dict[str, Any]):
        self.lower = lower
        self.upper = upper
        #: ``orjson.dumps(result.summary())``
        self.summary_json = summary_json
        #: builtin._caprini_answers of the result (the caller copies it before changing it)
        self.answers = answers
        self.answers_json = orjson.dumps(answers)


def _num(x: float) -> float | int:
    """calculators.base._num (a whole number is written as an int)."""
    return int(x) if float(x).is_integer() else x


def _whole(x: float) -> float | int:
    """rules.builtin._whole."""
    return int(x) if x == int(x) else x


_ITEMS = _PLAN.items
_ID_JSON = tuple(orjson.dumps(it.id) for it in _ITEMS)
#: per plan item: its points (float, as Plan.evaluate adds them), a summary item scoring them,
#: a summary item scoring 0 (a lower member of an exclusive group)
_POINTS = tuple(float(it.points) for it in _ITEMS)
_WON = tuple(
    b'{"id":' + j + b',"points":' + orjson.dumps(_num(p)) + b"}"
    for j, p in zip(_ID_JSON, _POINTS, strict=True)
)
_LOST = tuple(b'{"id":' + j + b',"points":0}' for j in _ID_JSON)
_SINGLE_BITS = sum(1 << i for i, _ in _PLAN.singles)
#: exclusive groups: (all their bits, members (plan index, points) highest points first, as
#: Plan.evaluate reads them)
_GROUPS = tuple(
    (sum(1 << i for i, _, _ in members), tuple((i, float(p)) for i, p, _ in members))
    for members in _PLAN.groups
)
_HEAD = b'{"version":' + orjson.dumps(_PLAN.version) + b',"band_scheme":'
_HEAD += orjson.dumps(_SCHEME.id) + b',"lower":'
_TAIL = b',"not_assessed":' + orjson.dumps(list(_PLAN.not_assessed)) + b"}"
_BAND = {b.id: orjson.dumps(b.id) for b in _SCHEME.bands}
_CACHE: dict[tuple[int, int], Scored] = {}


def score(d: Mapping[str, Any], at: date) -> Scored:
    """The Caprini result of one intake's answers screened on ``at`` (memoised by its masks)."""
    key = masks(d, at)
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.clear()
        hit = _CACHE[key] = score_masks(*key)
    return hit


_TRI: dict[Any, bool] = {"yes": True, "unsure": True, "no": False}
#: the reference's tables (caprini_intake), bound here so that a mypyc build reads them as
#: constants
_AGE_BITS: Final = ci._AGE_BITS
_AGE_TESTS: Final = ci._AGE_TESTS
_DERIVED_BITS: Final = ci._DERIVED_BITS
_DIRECT_BITS: Final = ci._DIRECT_BITS
_CANCER_BIT: Final = ci._CANCER_BIT
_CAST_BIT: Final = ci._CAST_BIT
_HORMONES_BIT: Final = ci._HORMONES_BIT
_LOSS_BIT: Final = ci._LOSS_BIT
_MAJOR_BIT: Final = ci._MAJOR_BIT
_OBESE_BIT: Final = ci._OBESE_BIT
_PREGNANT_BIT: Final = ci._PREGNANT_BIT
_VTE_BIT: Final = ci._VTE_BIT
_WOMEN_BITS: Final = ci._WOMEN_BITS


def _found(present: int, unknown: int, bit: int, f: bool | None) -> tuple[int, int]:
    if f is None:
        return present, unknown
    return (present | bit if f else present), unknown & ~bit


def masks(d: Mapping[str, Any], at: date) -> tuple[int, int]:
    """``caprini_intake.masks`` (the reference; the same reading, tested against it): its
    helpers reused, the one-line ones (surgery, cast, the women-only items) written in line."""
    get = d.get
    # The questions loop stays here, not shared: it is most of this function's time, and the
    # mypyc build compiles this module only (a call into caprini_intake runs as Python):
    # sharing it measured 1.9 -> 2.8 us per intake compiled, sharing the helpers 1.45 -> 1.9.
    present = 0
    unknown = _DERIVED_BITS
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
    present, unknown = _found(present, unknown, _OBESE_BIT, _obesity(d))
    recent = _TRI.get(get("surgery_recent"))
    if recent:
        recent = _within(get("surgery_on"), at) and get("surgery_kind") != "minor"
    present, unknown = _found(present, unknown, _MAJOR_BIT, recent)
    cancer = _or(_TRI.get(get("cancer_active")), _TRI.get(get("cancer_past")))
    present, unknown = _found(present, unknown, _CANCER_BIT, cancer)
    injury = _TRI.get(get("leg_injury"))
    if injury:
        injury = _within(get("leg_injury_on"), at) or get("leg_injury_ongoing") != "no"
    present, unknown = _found(present, unknown, _CAST_BIT, injury)
    present, unknown = _found(present, unknown, _VTE_BIT, _history_dvt_pe(d))
    present, unknown = _thrombophilia_bits(present, unknown, d)
    if get("sex") == "male":
        return present, unknown & ~_WOMEN_BITS
    present, unknown = _found(present, unknown, _HORMONES_BIT, _TRI.get(get("hormones")))
    loss = _TRI.get(get("pregnancy_loss_history"))
    present, unknown = _found(present, unknown, _LOSS_BIT, loss)
    birth = _TRI.get(get("gave_birth"))
    if birth:
        birth = _within(get("birth_on"), at)
    pregnant = _or(_TRI.get(get("pregnant")), birth)
    return _found(present, unknown, _PREGNANT_BIT, pregnant)


def _bits(mask: int) -> list[int]:
    """The set bits' positions, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def score_masks(present: int, unknown: int) -> Scored:
    """Plan.evaluate, ScoreResult.summary and the CAPRINI-* answers, for the masks."""
    unknown &= ~present  # as caprini_intake._unpack: present wins (it never meets unknown)
    lower = upper = 0.0
    pieces: list[tuple[int, bytes]] = []
    for i in _bits(present & _SINGLE_BITS):
        p = _POINTS[i]
        lower += p
        upper += p
        pieces.append((i, _WON[i]))
    unknown_at = _bits(unknown & _SINGLE_BITS)
    for i in unknown_at:
        p = _POINTS[i]
        if p < 0:  # an unknown negative item lowers the lower bound only
            lower += p
        else:
            upper += p
    for bits, members in _GROUPS:
        if not (present | unknown) & bits:
            continue
        lo = hi = None
        for i, p in members:
            if present >> i & 1:
                pieces.append((i, _LOST[i] if lo is not None else _WON[i]))
                lo = p if lo is None else lo
                hi = p if hi is None else hi
            elif unknown >> i & 1:
                unknown_at.append(i)
                hi = p if hi is None else hi
        lower += lo or 0.0
        upper += hi or 0.0
    pieces.sort()
    unknown_at.sort()
    summary = b"".join(
        (
            _HEAD,
            orjson.dumps(_num(lower)),
            b',"upper":',
            orjson.dumps(_num(upper)),
            b',"band":',
            _BAND[_SCHEME.band_of(lower)],
            b',"band_upper":',
            _BAND[_SCHEME.band_of(upper)],
            b',"items":[',
            b",".join([j for _, j in pieces]),
            b'],"unknown":[',
            b",".join([_ID_JSON[i] for i in unknown_at]),
            b"]",
            _TAIL,
        )
    )
    answers: dict[str, Any] = {"caprini_lower": _whole(lower), "caprini_upper": _whole(upper)}
    answers.update({_ITEMS[i].id: "present" for i, _ in pieces})
    return Scored(lower, upper, summary, answers)
