"""Client- and therapist-facing wording, loaded from the TOML files in clotsafe/knowledge/.

Level, question, region and Walton wording come from the one presenter
(:mod:`clotsafe.render.present`), so the web app, the CLI and the CDS Hooks cards cannot drift
apart.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from clotsafe.knowledge import load_toml
from clotsafe.render.present import citations, fill, region_label, walton
from clotsafe.render.present import question_words as questions
from clotsafe.render.present import wording as levels

__all__ = ["LEVELS", "client_text", "faq", "fill", "level", "levels", "question", "questions",
           "region_label", "walton"]  # fmt: skip

LEVELS = ("standard", "adapt", "clearance_required", "urgent_referral", "emergency")


@cache
def client_text() -> dict[str, Any]:
    return load_toml("client_text.toml")


@cache
def faq() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = load_toml("faq.toml")["faq"]
    return [{**f, "citations": list(citations(f["sources"]))} for f in items]


def question(qid: str) -> dict[str, Any]:
    result: dict[str, Any] = questions()["question"][qid]
    return result


def level(level_id: str) -> dict[str, Any]:
    result: dict[str, Any] = levels()["level"][level_id]
    return result
