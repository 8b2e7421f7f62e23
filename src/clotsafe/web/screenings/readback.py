"""Read back every answer of a screening in plain language, grouped as the client saw it.

The groups are the question bank's sections (``domain/questions.py``), each with the intake's
pages in the order the client met them (their titles from ``knowledge/client_text.toml``); each
question is in the client's own wording (``knowledge/questions.toml`` through the presenter's
``question_words``) and each answer in words (``present.value_words``). An answer that differs
from the screening before is marked with what it was. Nothing here is a question id, an answer
path or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clotsafe.domain.questions import BY_ID, CLOT_FIELDS, Section
from clotsafe.render import present
from clotsafe.web.intake.steps import STEPS
from clotsafe.web.texts import client_text

#: the question bank's sections, as the therapist reads them
SECTION_TITLES: dict[Section, str] = {
    "red_flags": "Warning signs (red flags)",
    "clot_history": "Blood clots",
    "medicines": "Medicines",
    "recent_events": "Recent events",
    "about_you": "About the client",
}
NOT_ANSWERED = "Not answered"


def _feet(cm: float) -> str:
    inches = round(cm / 2.54)
    return f"cm ({inches // 12} ft {inches % 12} in)"


def _pounds(kg: float) -> str:
    return f"kg ({round(kg / 0.45359237)} lb)"


#: height and weight are stored metric; the read-back gives US units beside them
US_UNITS = {"height_cm": _feet, "weight_kg": _pounds}


@dataclass(frozen=True, slots=True)
class Line:
    question: str
    answer: str
    #: the answer at the screening before, when it differs ("" when unchanged or no earlier one)
    was: str = ""
    #: clot records: one line per field
    parts: tuple[Line, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.was)


@dataclass(frozen=True, slots=True)
class Page:
    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Group:
    title: str
    pages: tuple[Page, ...]


def question_words(qid: str) -> str:
    """The question as the client read it."""
    q = present.question_words()["question"].get(qid)
    return str(q["text"]) if q else present.question_text(qid)


def answer_words(qid: str, value: Any, extra: Mapping[str, str] | None = None) -> str:
    """An answer in words; a medicine typed beside "Another one" is shown with it."""
    if value is None or value == "" or value == []:
        return NOT_ANSWERED
    if BY_ID[qid].type == "clots":
        return f"{len(value)} clot{'s' if len(value) != 1 else ''}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = present.value_words(qid, value)
    if qid in US_UNITS and isinstance(value, int | float):
        text = f"{text} {US_UNITS[qid](value)}"
    if extra and qid in extra:
        text += f" (typed: {extra[qid]})"
    return text


def _clot_parts(clot: Mapping[str, Any]) -> tuple[Line, ...]:
    labels = present.question_words()["clots"]
    return tuple(
        Line(str(labels[f]["text"]), present.value_words(f, clot[f]) if clot.get(f) else "")
        for f in CLOT_FIELDS
    )


def _clot_lines(now: list[Any], before: list[Any] | None) -> list[Line]:
    out = []
    for i, clot in enumerate(now or []):
        old = before[i] if before is not None and i < len(before) else None
        was = ""
        if before is not None and old != clot:
            was = "not reported" if old is None else present.value_words("clots", old)
        name = present.fill(present.wording()["answer_words"]["clot"], n=str(i + 1))
        parts = tuple(Line(p.question, p.answer or NOT_ANSWERED) for p in _clot_parts(clot))
        out.append(Line(name, "", was, parts))
    return out


def _line(qid: str, answers: Mapping[str, Any], before: Mapping[str, Any] | None,
          extra: Mapping[str, str] | None) -> Line:  # fmt: skip
    value = answers.get(qid)
    was = ""
    if before is not None and before.get(qid) != value:
        was = answer_words(qid, before.get(qid))
    return Line(question_words(qid), answer_words(qid, value, extra), was)


def _page_lines(qids: tuple[str, ...], answers: Mapping[str, Any],
                before: Mapping[str, Any] | None,
                extra: Mapping[str, str] | None) -> list[Line]:  # fmt: skip
    lines: list[Line] = []
    for qid in qids:
        if not BY_ID[qid].enabled(answers):
            continue  # not asked: its trigger was not answered yes
        if BY_ID[qid].type == "clots":
            old = (before.get(qid) or []) if before is not None else None
            lines += _clot_lines(answers.get(qid) or [], old)
        else:
            lines.append(_line(qid, answers, before, extra))
    return lines


def read_back(answers: Mapping[str, Any], before: Mapping[str, Any] | None = None,
              extra: Mapping[str, str] | None = None) -> list[Group]:  # fmt: skip
    """Every question the client was asked, with the answer in words, grouped by section and
    page; ``before``: the answers of the screening before (changes are marked);
    ``extra``: medicines typed beside "Another one", by question."""
    titles = client_text()["steps"]
    groups: dict[Section, list[Page]] = {}
    for step in STEPS:
        lines = _page_lines(step.questions, answers, before, extra)
        if not lines:
            continue
        section = BY_ID[step.questions[0]].section
        pages = groups.setdefault(section, [])
        title = str(titles.get(step.key, ""))
        if title == SECTION_TITLES[section]:
            title = ""  # the section's heading already says it
        if pages and pages[-1].title == title:  # two pages of one heading read as one
            pages[-1] = Page(title, pages[-1].lines + tuple(lines))
        else:
            pages.append(Page(title, tuple(lines)))
    return [Group(SECTION_TITLES[s], tuple(p)) for s, p in groups.items()]


def changed_count(groups: list[Group]) -> int:
    return sum(line.changed for g in groups for p in g.pages for line in p.lines)
