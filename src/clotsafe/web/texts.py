"""Client- and therapist-facing wording, loaded from the TOML files in clotsafe/knowledge/."""

from __future__ import annotations

from functools import cache
from typing import Any

from clotsafe.knowledge import load_toml, sources

LEVELS = ("standard", "adapt", "clearance_required", "urgent_referral", "emergency")


@cache
def questions() -> dict[str, Any]:
    return load_toml("questions.toml")


@cache
def levels() -> dict[str, Any]:
    return load_toml("levels.toml")


@cache
def client_text() -> dict[str, Any]:
    return load_toml("client_text.toml")


@cache
def faq() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = load_toml("faq.toml")["faq"]
    cites = sources()
    return [{**f, "citations": [(s, cites.get(s, s)) for s in f["sources"]]} for f in items]


def question(qid: str) -> dict[str, Any]:
    result: dict[str, Any] = questions()["question"][qid]
    return result


def region_label(region: str) -> str:
    return str(questions()["regions"].get(region, region.replace("_", " ")))


def level(level_id: str) -> dict[str, Any]:
    result: dict[str, Any] = levels()["level"][level_id]
    return result


def walton(cap: int) -> str:
    return str(levels()["walton"][str(cap)])


def fill(text: str, **values: str) -> str:
    """Replace {number}/{clinic} placeholders (plain replace: texts contain no other braces)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text
