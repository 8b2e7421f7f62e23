"""Small builders shared by the hand-written tests (Hypothesis strategies live in strategies.py)."""

from __future__ import annotations

from typing import Any

from clotsafe.domain.questions import ALWAYS_REQUIRED, PREGNANCY_REQUIRED

ON = "2026-11-25"
COMPLETE_NO: dict[str, Any] = dict.fromkeys((*ALWAYS_REQUIRED, *PREGNANCY_REQUIRED), "no")


def intake(answers: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A complete all-"no" intake screened on 2026-11-25, with ``answers`` on top."""
    return {"screened_on": ON, "answers": {**COMPLETE_NO, **(answers or {})}, **extra}
