"""The batch's Caprini (``caprini_fast``: the masks scored straight into the decision's JSON)
writes exactly what the reference ``caprini_from_intake(...).summary()`` and the CAPRINI-*
rules' answers write (POLICY §4: unknown items count in the upper bound only; one choice per
exclusive group)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from itertools import product
from typing import Any

import orjson
import pytest
from hypothesis import given, settings

from clotsafe.calculators import caprini_fast as cf
from clotsafe.calculators import caprini_intake as ci
from clotsafe.domain.intake import parse_intake
from clotsafe.rules.builtin import _whole
from tests.strategies import intakes


def _reference_masks(present: int, unknown: int) -> Any:
    return ci.CAPRINI.result(ci._PLAN, ci._SCHEME, ci._unpack(present, unknown), ci.NOTES)


def _answers(result: Any) -> dict[str, Any]:
    """builtin._caprini_answers of a result."""
    out: dict[str, Any] = {
        "caprini_lower": _whole(result.lower),
        "caprini_upper": _whole(result.upper),
    }
    out.update({i.id: "present" for i in result.items if i.present})
    return out


def _same(fast: cf.Scored, ref: Any) -> None:
    assert fast.summary_json == orjson.dumps(ref.summary())
    assert (fast.lower, fast.upper) == (ref.lower, ref.upper)
    assert fast.answers_json == orjson.dumps(_answers(ref))
    assert fast.answers == _answers(ref)


def test_random_masks_score_as_the_reference() -> None:
    """20,000 random present/unknown combinations of the 33 assessed items, dense and sparse."""
    rng = random.Random(2026)
    n = len(ci._PLAN.items)
    for _ in range(20_000):
        present = rng.getrandbits(n) & rng.getrandbits(n) & rng.getrandbits(n)
        unknown = rng.getrandbits(n) & ~present
        _same(cf.score_masks(present, unknown), _reference_masks(present, unknown))


def test_every_combination_of_the_exclusive_groups() -> None:
    """Each member of age and mobility present, unknown or absent, in every combination: the
    highest present member scores, the others are listed with 0 points (as the reference)."""
    group_items = [i for members in ci._PLAN.groups for i, _, _ in members]
    for states in product((0, 1, 2), repeat=len(group_items)):
        present = sum(1 << i for i, s in zip(group_items, states, strict=True) if s == 1)
        unknown = sum(1 << i for i, s in zip(group_items, states, strict=True) if s == 2)
        _same(cf.score_masks(present, unknown), _reference_masks(present, unknown))


@settings(max_examples=300, deadline=None)
@given(obj=intakes(with_clearances=False))
def test_intakes_score_as_the_reference(obj: dict[str, Any]) -> None:
    """From the answers of any valid intake, cold memo and warm, as caprini_from_intake."""
    intake = parse_intake(obj)
    ref = ci.caprini_from_intake(intake.answers, intake.screened_on)
    cf._CACHE.clear()
    cold = cf.score(intake.answers.as_mapping(), intake.screened_on)
    warm = cf.score(intake.answers.as_mapping(), intake.screened_on)
    _same(cold, ref)
    assert warm is cold


@settings(max_examples=500, deadline=None)
@given(obj=intakes(with_clearances=False))
def test_the_one_pass_reads_the_answers_as_the_reference(obj: dict[str, Any]) -> None:
    """caprini_fast.masks (the helpers inlined) = caprini_intake.masks, on any valid intake,
    at its screening date and at dates around the 28-day window of its events."""
    intake = parse_intake(obj)
    d = intake.answers.as_mapping()
    for days in (0, 27, 28, 29, 400):
        at = intake.screened_on + timedelta(days=days)
        assert cf.masks(d, at) == ci.masks(d, at)


def test_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo starts again when full, so a long batch never grows memory."""
    monkeypatch.setattr(cf, "CACHE_SIZE", 8)
    cf._CACHE.clear()
    base = parse_intake({"screened_on": "2026-01-10", "answers": {}}).answers.as_mapping()
    qids = [q for q, _ in ci._DIRECT_BITS][:6]
    for k in range(1 << len(qids)):  # 64 distinct combinations of six yes/no answers
        yes = {q: "yes" if k >> j & 1 else "no" for j, q in enumerate(qids)}
        cf.score({**base, **yes}, date(2026, 1, 10))
        assert len(cf._CACHE) <= 8
