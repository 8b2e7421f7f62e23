"""The one presenter of a Decision: every surface words a decision through these functions.

The CLI text and Markdown (``render/text.py``, ``render/markdown.py``), the web pages, the CDS
Hooks cards and the consultation letters all hold a :class:`~clotsafe.domain.decision.Decision`
(a stored one is read back with ``Decision.from_json``) and take from here its badge, headline
and action, the referral urgency and position in words, the pending questions in plain language,
the incomplete banner, the reasons with their sources, the clearance facts, the plan and the
Caprini score. The words are data (``knowledge/levels.toml``, ``questions.toml``,
``sources.toml``); nothing returned here contains a question id, an answer path or raw JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from clotsafe.calculators import caprini as caprini_calculator
from clotsafe.domain.decision import Decision, Reason
from clotsafe.domain.intake import Answers
from clotsafe.domain.questions import BY_ID
from clotsafe.domain.regions import REGIONS
from clotsafe.domain.types import Level, Position, Urgency
from clotsafe.knowledge import clearable_rules, load_toml, sources
from clotsafe.knowledge import rules as rule_info
from clotsafe.rules.builtin import on_anticoagulant, on_antiplatelet
from clotsafe.rules.registry import Ctx
from clotsafe.rules.settings import DEFAULT_SETTINGS

#: the emergency numbers named where no clinic has set its own (POLICY §1)
EMERGENCY_NUMBERS = "911/999/112"


@cache
def wording() -> dict[str, Any]:
    """knowledge/levels.toml: levels, incomplete, urgency, position, clearance, Walton words."""
    return load_toml("levels.toml")


@cache
def question_words() -> dict[str, Any]:
    """knowledge/questions.toml: each question's words, option labels and region names."""
    return load_toml("questions.toml")


def fill(text: str, **values: str) -> str:
    """Put values into a wording's ``{name}`` fields (plain replace: no format mini-language)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


# --- levels ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Badge:
    """A level as shown: words, an icon and a CSS id, never colour alone."""

    id: str
    label: str
    icon: str
    therapist: str
    client: str = ""


def withholds_green_light(level: Level, complete: bool) -> bool:
    """POLICY §2, the one implementation: an incomplete screening whose level would let massage
    go ahead (standard, adapt) is shown as "screening incomplete", never as that level."""
    return not complete and level <= Level.ADAPT


def level_badge(level: Level | None, complete: bool = True,
                number: str = EMERGENCY_NUMBERS) -> Badge:  # fmt: skip
    """The badge of a level (None: not screened yet); see :func:`withholds_green_light`."""
    if level is None:
        key, words = "none", wording()["not_screened"]
    elif withholds_green_light(level, complete):
        key, words = "incomplete", wording()["incomplete"]
    else:
        key, words = level.value, wording()["level"][level.value]
    return Badge(key, words["label"], words["icon"], fill(words["therapist"], number=number),
                 fill(words.get("client", ""), number=number))  # fmt: skip


def badge(decision: Decision, number: str = EMERGENCY_NUMBERS) -> Badge:
    return level_badge(decision.level, decision.complete, number)


def level_label(level: Level) -> str:
    return str(wording()["level"][level.value]["label"])


def headline(decision: Decision) -> str:
    """One line for the decision (card summaries), "screening incomplete" where it must be."""
    if withholds_green_light(decision.level, decision.complete):
        return str(wording()["incomplete"]["headline"])
    return str(wording()["level"][decision.level.value]["headline"])


def action(decision: Decision, number: str = EMERGENCY_NUMBERS) -> str:
    """What the therapist does at the decision's level (POLICY §1)."""
    return fill(wording()["level"][decision.level.value]["therapist"], number=number)


def urgency_text(urgency: Urgency) -> str:
    return str(wording()["urgency"][urgency.value])


def position_text(position: Position) -> str:
    return str(wording()["position"][position.value])


def walton(cap: int) -> str:
    """The Walton pressure level's meaning (0: do not work this region)."""
    return str(wording()["walton"][str(cap)])


def region_label(region: str) -> str:
    """A region's or a group's label ("legs": "Both legs"), as questions.toml words it."""
    label = _labels().get(region)
    return label if label is not None else region.replace("_", " ")


@cache
def _labels() -> dict[str, str]:
    """Every label of questions.toml's regions: the regions and the groups."""
    return {k: str(v) for k, v in question_words()["regions"].items()}


@cache
def _region_labels() -> dict[str, str]:
    """Every region of INTAKE.md with its label, in the body's order, groups left out (a plan
    names each region: a bulk screening renders ~20 labels a patient)."""
    return {r: region_label(r) for r in REGIONS}


def region_labels(regions: Iterable[str]) -> list[str]:
    """Labels in the body's order (INTAKE.md), whatever order the regions came in."""
    have = set(regions)
    return [label for r, label in _region_labels().items() if r in have]


# --- questions and answers ------------------------------------------------------------------


def question_text(qid: str) -> str:
    """The question as the therapist asks it (questions.toml), for a question id."""
    q = question_words()["question"].get(qid)
    return str(q["text"]) if q else path_words(qid)


def pending_questions(decision: Decision) -> list[str]:
    """The questions still to ask, in plain language, in intake order."""
    return [question_text(q) for q in decision.pending_questions]


@dataclass(frozen=True, slots=True)
class IncompleteBanner:
    title: str
    questions: tuple[str, ...]


def incomplete_banner(decision: Decision) -> IncompleteBanner | None:
    """POLICY §2: "screening incomplete: ask these before any massage", with the questions."""
    if decision.complete:
        return None
    title = str(wording()["incomplete"]["therapist"])
    return IncompleteBanner(title, tuple(pending_questions(decision)))


_CLOT_PATH = re.compile(r"clots\[(\d+)\](?:\.([a-z_]+))?")


def path_words(path: str) -> str:
    """An answer path (``anticoagulant``, ``clots[0]``, ``clots[0].site``) in words."""
    words = wording()["answer_words"]
    m = _CLOT_PATH.fullmatch(path)
    if m:
        clot = fill(words["clot"], n=str(int(m[1]) + 1))
        return f"{clot}, {words.get(m[2], m[2].replace('_', ' '))}" if m[2] else clot
    if path in question_words()["question"]:
        return question_text(path)
    if path in words:
        return str(words[path])
    return _caprini_labels().get(path, path.replace("_", " "))


def value_words(path: str, value: Any) -> str:
    """An answer's value in words: option labels, region names, a clot record's fields."""
    if isinstance(value, Mapping):  # a clot record: its fields by name
        words = wording()["answer_words"]
        return "; ".join(f"{words.get(k, k.replace('_', ' '))}: {value_words(k, v)}"
                         for k, v in value.items() if v is not None)  # fmt: skip
    if isinstance(value, list | tuple):
        return ", ".join(value_words(path, v) for v in value)
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "not answered"}[value]
    return _option_label(path.rsplit(".", 1)[-1].split("[")[0], str(value))


def _option_label(field: str, value: str) -> str:
    q = question_words()
    options = {**q.get("question", {}).get(field, {}).get("options", {}),
               **q.get("clots", {}).get(field, {}).get("options", {})}  # fmt: skip
    if value in options:
        return str(options[value])
    if value in q["tri"]:
        return str(q["tri"][value])
    return region_label(value) if value in q["regions"] else value


def answer_lines(answers: Mapping[str, Any]) -> list[str]:
    """What a rule read, one line an answer: "Do you take a blood thinner? Yes"."""
    out = []
    for path, value in _records_apart(answers):
        label = path_words(path)
        out.append(f"{label}{' ' if label.endswith('?') else ': '}{value_words(path, value)}")
    return out


def _records_apart(answers: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """A list of records (``clots``) as one answer a record (``clots[0]``, ``clots[1]``)."""
    for path, value in answers.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            yield from ((f"{path}[{i}]", v) for i, v in enumerate(value))
        else:
            yield path, value


_ASSUMED = re.compile(r"(?P<path>\S+) (?P<state>missing|unsure)(?P<rest>:.*)")
_TOKEN = re.compile(r"clots\[\d+\](?:\.[a-z_]+)?|\b[a-z]+(?:_[a-z]+)+\b")


def plain(text: str) -> str:
    """Engine wording (assumptions, notes) with any answer path or region id put in words:
    "surgery_on missing: counted as ..." -> "When was the operation? (not answered): ..."."""
    m = _ASSUMED.fullmatch(text)
    if m and (m["path"] in BY_ID or _CLOT_PATH.fullmatch(m["path"])):
        state = wording()["answer_words"][m["state"]]
        return f"{path_words(m['path'])} ({state}){m['rest']}"
    return _TOKEN.sub(_token_words, text)


def _token_words(m: re.Match[str]) -> str:
    token = m.group(0)
    if token in BY_ID or _CLOT_PATH.fullmatch(token) or token in wording()["answer_words"]:
        return path_words(token)
    return region_label(token) if token in question_words()["regions"] else token


def on_blood_thinners(answers: Mapping[str, Any]) -> bool:
    """Takes an anticoagulant or an antiplatelet, as the engine reads it: the yes/no answer
    (unsure counts as yes) or a medicine named in ``anticoagulant_names`` /
    ``antiplatelet_names`` even when the answer says no (``named_medicines_count``). Answers
    that no longer validate (stored under an older question bank) count as yes: the bleeding
    question is then asked rather than skipped."""
    try:
        ctx = Ctx(Answers.from_mapping(answers), _ANY_DAY, DEFAULT_SETTINGS.windows)
    except ValueError:
        return True
    return on_anticoagulant(ctx) or on_antiplatelet(ctx)


#: the medicine readings ignore the date, but a Ctx needs one
_ANY_DAY = date(2000, 1, 1)


# --- reasons, sources, clearances -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReasonView:
    rule: str
    badge: Badge
    summary: str
    action: str
    citations: tuple[tuple[str, str], ...]
    policy_choice: bool
    policy_note: str
    answers: tuple[str, ...]
    assumptions: tuple[str, ...]
    #: who cleared this rule, or whose restrictions it carries (CLEARANCE-RESTRICTIONS)
    clearance: str
    #: that the clinic's settings raised this rule above POLICY.md's level (POLICY §6)
    raised: str = ""

    @property
    def sources(self) -> str:
        return ", ".join(tag for tag, _ in self.citations)


def citations(tags: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Source tags with their full reference (FACTS §12)."""
    cites = sources()
    return tuple((t, cites.get(t, t)) for t in tags)


def references(decision: Decision) -> tuple[tuple[str, str], ...]:
    """Every source of every reason, once, in the order the reasons cite them (the letter)."""
    return citations(dict.fromkeys(t for r in decision.reasons for t in r.sources))


def reason_summaries(decision: Decision) -> list[str]:
    """Each reason's one line, in the decision's order (what :func:`reasons` gives as
    ``summary``, without the rest of each view: the bulk worklist needs only these)."""
    return [r.summary for r in decision.reasons]


def reasons(decision: Decision) -> list[ReasonView]:
    info = rule_info()
    return [ReasonView(
        rule=r.rule, badge=level_badge(r.level), summary=r.summary,
        action=info[r.rule].action if r.rule in info else "", citations=citations(r.sources),
        policy_choice=r.policy_choice, policy_note=r.policy_note,
        answers=tuple(answer_lines(r.answers)), assumptions=tuple(map(plain, r.assumptions)),
        clearance=reason_clearance(r), raised=raised_text(r),
    ) for r in decision.reasons]  # fmt: skip


def raised_text(reason: Reason) -> str:
    """A rule whose level a clinic setting raised says so, with POLICY.md's level."""
    if reason.default_level is None:
        return ""
    return fill(wording()["settings"]["raised"], level=level_label(reason.default_level))


def _clearance_words(kind: str, c: Mapping[str, Any], **more: str) -> str:
    fields = {k: str(c.get(k, "")) for k in ("clinician", "date", "valid_until")}
    rules = ", ".join(map(str, c.get("rules", ())))
    return fill(wording()["clearance"][kind], rules=rules, **fields, **more)


def reason_clearance(reason: Reason) -> str:
    """Who cleared this rule (POLICY §5), or whose restrictions it carries (POLICY §8.6)."""
    if reason.cleared_by:
        return _clearance_words("cleared_by", reason.cleared_by)
    if reason.clearance:
        return _clearance_words("restrictions", reason.clearance)
    return ""


def unapplied_text(item: Mapping[str, Any]) -> str:
    """Why a valid clearance did not lower a rule (POLICY §8.4, §8.7)."""
    why = str(item.get("why", ""))
    kind = why if why in ("event_after_clearance", "level_raised_by_clinic") else "unknown_why"
    field = str(item.get("event", "")).rsplit(".", 1)[-1]
    events = wording()["event"]
    return _clearance_words(kind, item.get("clearance", {}), rule=str(item.get("rule", "")),
                            event=str(events.get(field, events["other"])),
                            event_on=str(item.get("event_on", "")))  # fmt: skip


def clearance_facts(decision: Decision) -> list[str]:
    """Every clearance fact of a decision, in words: which rules were cleared by whom until
    when, whose restrictions apply, which valid clearances were not applied and why, and which
    have expired."""
    out = [f"{r.rule}: {reason_clearance(r)}" for r in decision.reasons if reason_clearance(r)]
    return out + clearance_notices(decision)


def clearance_notices(decision: Decision) -> list[str]:
    """The clearance facts that belong to no reason: not applied (and why), and expired."""
    out = [unapplied_text(u) for u in decision.unapplied_clearances]
    return out + [_clearance_words("expired", c) for c in decision.expired_clearances]


def rules_to_clear(decision: Decision) -> list[Reason]:
    """The reasons a clinician's answer can cover: clearance_required before any clearance,
    never a red flag (POLICY §5)."""
    allowed = clearable_rules()
    return [r for r in decision.reasons
            if r.rule_level is Level.CLEARANCE_REQUIRED and allowed.get(r.rule)]  # fmt: skip


# --- plan and scores ------------------------------------------------------------------------


def cap_label(cap: int) -> str:
    return "do not work" if cap == 0 else f"pressure ≤ {cap}"


@dataclass(frozen=True, slots=True)
class PlanView:
    #: (cap, region names), lowest cap first
    caps: tuple[tuple[int, tuple[str, ...]], ...]
    avoid: tuple[str, ...]
    position: str
    gentle: tuple[str, ...]
    no_joint: tuple[str, ...]
    minutes: int | None
    rescreen: bool
    notes: tuple[str, ...]
    #: the plan of a clearance_required decision applies only once cleared
    once_cleared: bool


def plan(decision: Decision) -> PlanView:
    p = decision.plan
    groups: dict[int, list[str]] = {}
    for r, label in _region_labels().items():
        groups.setdefault(p.pressure_max[r], []).append(label)
    return PlanView(
        caps=tuple((cap, tuple(names)) for cap, names in sorted(groups.items())),
        avoid=tuple(region_labels(p.avoid)), position=position_text(p.position),
        gentle=tuple(region_labels(p.gentle_joint_movement)),
        no_joint=tuple(region_labels(p.no_joint_movement)), minutes=p.session_minutes_max,
        rescreen=p.rescreen_each_visit, notes=tuple(map(plain, p.notes)),
        once_cleared=decision.level is Level.CLEARANCE_REQUIRED,
    )  # fmt: skip


def shows_plan(decision: Decision) -> bool:
    """A plan is shown when a rule fired and massage may go ahead now or once cleared."""
    return bool(decision.reasons) and decision.level <= Level.CLEARANCE_REQUIRED


def plan_lines(decision: Decision) -> list[str]:
    """The plan as short lines (no bullets): caps by region, position, joints, length, notes."""
    v = plan(decision)
    out = [f"{cap_label(cap)}: {', '.join(names)}" for cap, names in v.caps]
    out.append(f"position: {v.position}")
    if v.no_joint:
        out.append("no joint mobilisation: " + ", ".join(v.no_joint))
    if v.gentle:
        out.append("gentle joint movement only: " + ", ".join(v.gentle))
    if v.minutes:
        out.append(f"session ≤ {v.minutes} min")
    return out + list(v.notes)


@dataclass(frozen=True, slots=True)
class CapriniView:
    version: str
    lower: float
    upper: float
    band: str
    band_upper: str
    items: tuple[tuple[str, float], ...]
    unknown: tuple[str, ...]
    not_assessed: tuple[str, ...]

    @property
    def text(self) -> str:
        span = f"{self.lower}" if self.lower == self.upper else f"{self.lower}–{self.upper}"
        return f"Caprini {self.version}: {span} ({self.band})"


@cache
def _caprini_labels() -> dict[str, str]:
    return {i.id: i.label for i in caprini_calculator.ITEMS}


def caprini(decision: Decision) -> CapriniView | None:
    """The Caprini score the decision holds, its items named (POLICY §4), or None."""
    if "caprini" not in decision.scores:
        return None
    c, labels = decision.scores["caprini"].summary(), _caprini_labels()
    return CapriniView(
        version=str(c.get("version", "")), lower=c["lower"], upper=c["upper"],
        band=str(c["band"]), band_upper=str(c.get("band_upper", c["band"])),
        items=tuple((labels.get(i["id"], i["id"]), i["points"]) for i in c.get("items", [])),
        unknown=tuple(labels.get(i, i) for i in c.get("unknown", [])),
        not_assessed=tuple(labels.get(i, i) for i in c.get("not_assessed", [])),
    )  # fmt: skip
