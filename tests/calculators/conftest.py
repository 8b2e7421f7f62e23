"""Factories for the calculator tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clotsafe.calculators import ScoreResult, caprini_from_intake, get
from clotsafe.domain.intake import Answers

from .helpers import AT


@pytest.fixture
def score() -> Callable[..., ScoreResult]:
    """``score("perc", {...}, version=..., bands=...)`` through the registry."""

    def _score(name: str, findings: dict[str, Any], **kw: Any) -> ScoreResult:
        return get(name).score(findings, **kw)

    return _score


@pytest.fixture
def caprini_intake() -> Callable[..., ScoreResult]:
    """``caprini_intake(age=50, sex="female", ...)``: Caprini of validated intake answers."""

    def _caprini(**answers: Any) -> ScoreResult:
        return caprini_from_intake(Answers.from_mapping(answers), AT)

    return _caprini
