"""CDS Hooks 2.0: service definitions, prefetch templates, request/response models and cards.

Pure: a request plus the resources (prefetched or fetched) in, a response out. The Django views
in ``clotsafe.web.cds`` only move bytes and map errors to HTTP.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clotsafe.calculators import builtin_calculators
from clotsafe.domain.decision import Decision
from clotsafe.domain.errors import FieldError
from clotsafe.domain.types import Level
from clotsafe.fhir.codes import LOINC, code_lists
from clotsafe.fhir.ehr import EhrFacts
from clotsafe.fhir.errors import FhirInputError, from_pydantic, problem
from clotsafe.fhir.questionnaire import CANONICAL_BASE
from clotsafe.fhir.scores import EhrScore
from clotsafe.render import present
from clotsafe.render.markdown import render

# --- models ---------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class FhirAuthorization(_Model):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None


class CdsRequest(_Model):
    hook: str
    hookInstance: str
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


class Coding(_Model):
    system: str | None = None
    code: str
    display: str | None = None


class Source(_Model):
    label: str
    url: str | None = None
    topic: Coding | None = None


class Link(_Model):
    label: str
    url: str
    type: Literal["absolute", "smart"] = "absolute"


class Card(_Model):
    uuid: str
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    overrideReasons: list[Coding] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    selectionBehavior: Literal["at-most-one", "any"] | None = None


class CdsResponse(_Model):
    cards: list[Card]
    systemActions: list[dict[str, Any]] = Field(default_factory=list)


class FeedbackCoding(_Model):
    """An override reason's coding as stored (the lengths are the database columns')."""

    system: str | None = Field(default=None, max_length=300)
    code: str = Field(max_length=100)
    display: str | None = None


class OverrideReason(_Model):
    reason: FeedbackCoding | None = None
    userComment: str | None = Field(default=None, max_length=10_000)


class FeedbackItem(_Model):
    card: str = Field(max_length=100)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] = Field(default_factory=list)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: str = Field(max_length=40)


class FeedbackRequest(_Model):
    feedback: list[FeedbackItem] = Field(min_length=1)


#: context fields clotsafe reads, with the JSON type each must have (CDS Hooks 2.0 hooks)
CONTEXT_TYPES: dict[str, tuple[type, str]] = {
    "patientId": (str, "a string"),
    "userId": (str, "a string"),
    "encounterId": (str, "a string"),
    "selections": (list, "a list of references (strings)"),
    "draftOrders": (dict, "a Bundle (an object)"),
    "appointments": (dict, "a Bundle (an object)"),
}


def parse_request(obj: Any) -> CdsRequest:
    """A CDS Hooks request, or FhirInputError with the path of each problem.

    The context fields clotsafe reads must have their hook's JSON type (``selections`` a
    list of strings, ``draftOrders`` an object, ...): a number where a list belongs is a 422
    naming ``context.selections``, never a crash further in."""
    try:
        request = CdsRequest.model_validate(obj)
    except ValidationError as exc:
        raise FhirInputError(from_pydantic(exc.errors())) from None
    errors = _context_errors(request.context)
    if errors:
        raise FhirInputError(errors)
    return request


def _context_errors(context: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    for key, (kind, words) in CONTEXT_TYPES.items():
        value = context.get(key)
        if value is not None and not isinstance(value, kind):
            errors.append(problem(f"context.{key}", "wrong_type", f"must be {words}", value))
    selections = context.get("selections")
    for i, ref in enumerate(selections if isinstance(selections, list) else ()):
        if not isinstance(ref, str):
            errors.append(problem(f"context.selections[{i}]", "wrong_type",
                                  "must be a reference such as ServiceRequest/1", ref))  # fmt: skip
    return errors


def parse_feedback(obj: Any) -> FeedbackRequest:
    try:
        return FeedbackRequest.model_validate(obj)
    except ValidationError as exc:
        raise FhirInputError(from_pydantic(exc.errors())) from None


# --- services and prefetch -------------------------------------------------------------------

_LOINC_CODES = ",".join(f"{LOINC}|{c}" for c in sorted(code_lists().measures))
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "observations": f"Observation?patient={{{{context.patientId}}}}&code={_LOINC_CODES}"
                    "&_sort=-date&_count=200",
    "procedures": "Procedure?patient={{context.patientId}}",
    "encounters": "Encounter?patient={{context.patientId}}&status=in-progress",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    hook: str
    title: str
    description: str

    def definition(self) -> dict[str, Any]:
        return {"hook": self.hook, "id": self.id, "title": self.title,
                "description": self.description, "prefetch": dict(PREFETCH),
                "usageRequirements": "Decision support for massage therapists in integrative "
                "medicine programs; not a diagnosis."}  # fmt: skip


SERVICES: dict[str, Service] = {s.id: s for s in (
    Service("clotsafe-patient-view", "patient-view", "clotsafe: is massage safe today?",
            "Blood-clot safety screening for massage (clotsafe policy v1) from the record."),
    Service("clotsafe-appointment-book", "appointment-book", "clotsafe: massage appointment",
            "Checks a massage appointment against the clotsafe blood-clot screening policy."),
    Service("clotsafe-order-select", "order-select", "clotsafe: massage order",
            "When a massage ServiceRequest is selected, shows the clotsafe screening decision."),
)}  # fmt: skip


def discovery() -> dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [s.definition() for s in SERVICES.values()]}


_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z]+)\s*\}\}")


def fill_template(template: str, context: Mapping[str, Any]) -> str | None:
    """A prefetch template with its context tokens replaced (None when a token is missing)."""
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        v = context.get(m.group(1))
        if not isinstance(v, str):
            missing = True
            return ""
        return v

    out = _TOKEN.sub(sub, template)
    return None if missing else out


def missing_prefetch(request: CdsRequest) -> list[str]:
    """Prefetch keys the client did not send (a key sent as null was tried and found nothing)."""
    sent = request.prefetch or {}
    return [k for k in PREFETCH if k not in sent]


def is_massage_order(request: CdsRequest) -> bool:
    """order-select: is one of the selected draft orders a ServiceRequest for massage?"""
    selections = set(request.context.get("selections") or ())
    orders = request.context.get("draftOrders") or {}
    for entry in _list(orders.get("entry")) if isinstance(orders, dict) else ():
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") != "ServiceRequest":
            continue
        ref = f"ServiceRequest/{res.get('id')}"
        if selections and ref not in selections:
            continue
        if "massage" in _concept_text(res.get("code")).lower():
            return True
    return False


def _concept_text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    parts = [str(concept.get("text") or "")]
    parts += [str(c.get("display") or "") for c in _list(concept.get("coding"))
              if isinstance(c, dict)]  # fmt: skip
    return " ".join(parts)


# --- cards ----------------------------------------------------------------------------------

INDICATOR = {Level.EMERGENCY: "critical", Level.URGENT_REFERRAL: "critical",
             Level.CLEARANCE_REQUIRED: "warning", Level.ADAPT: "warning",
             Level.STANDARD: "info"}  # fmt: skip
OVERRIDE_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/override-reason"
OVERRIDE_REASONS = (
    ("clinician-cleared", "A clinician has already cleared massage for this patient"),
    ("record-out-of-date", "The record is out of date; the screening was repeated in person"),
    ("no-massage-planned", "No massage is planned"),
    ("patient-declined", "The patient declined screening"),
)


@dataclass(frozen=True, slots=True)
class CardConfig:
    """Where the card points: the public base URL of this clotsafe installation."""

    base_url: str = "http://127.0.0.1:8000"
    policy_path: str = "/policy"
    letter_path: str = "/cds-services/letters/"


@dataclass(frozen=True, slots=True)
class LetterRequest:
    """What a consultation letter needs, for a clearance_required card: the decision, the
    intake it came from (the record's answers: enough to evaluate it again when the letter is
    opened) and who asked about whom."""

    outcome: Decision
    intake: Mapping[str, Any]
    service_id: str
    hook_instance: str = ""
    user_id: str = ""
    patient_name: str = ""
    birth_date: str = ""

    @property
    def decision(self) -> dict[str, Any]:
        return self.outcome.to_json()

    @property
    def policy_version(self) -> str:
        return self.outcome.policy_version


class LetterStore(Protocol):
    """Keeps a letter request and returns the unforgeable token that opens it (the web app)."""

    def issue(self, letter: LetterRequest) -> str: ...


LETTER_LABEL = "Consultation letter (PDF)"


def letter_url(config: CardConfig, token: str) -> str:
    return f"{config.base_url}{config.letter_path}{token}.pdf"


def patient_details(resource: Any) -> tuple[str, str]:
    """The display name and birth date a Patient resource (or a Bundle holding one) gives
    ("" when it gives none, or gives something that is not a FHIR name)."""
    if isinstance(resource, dict) and resource.get("resourceType") == "Bundle":
        entries = [e.get("resource") for e in _list(resource.get("entry")) if isinstance(e, dict)]
        resource = next((r for r in entries if isinstance(r, dict)
                         and r.get("resourceType") == "Patient"), None)  # fmt: skip
    if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
        return "", ""
    names = [n for n in _list(resource.get("name")) if isinstance(n, dict)]
    names.sort(key=lambda n: n.get("use") not in ("official", "usual"))
    birth = resource.get("birthDate")
    return (_human_name(names[0]) if names else ""), (birth if isinstance(birth, str) else "")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _human_name(name: dict[str, Any]) -> str:
    if isinstance(name.get("text"), str) and name["text"].strip():
        return str(name["text"]).strip()
    given = [g for g in _list(name.get("given")) if isinstance(g, str)]
    family = name.get("family")
    return " ".join([*given, family if isinstance(family, str) else ""]).strip()


def summary(decision: Decision) -> str:
    """The card summary: under 140 characters, the level (or "incomplete") first."""
    rules = ", ".join(r.rule for r in decision.reasons[:3])
    text = f"clotsafe — {present.headline(decision)}" + (f" ({rules})" if rules else "")
    return text if len(text) < 140 else text[:136].rstrip() + "…"


def indicator(decision: Decision) -> str:
    """critical / warning / info by level; an incomplete screening is never shown as info."""
    if present.withholds_green_light(decision.level, decision.complete):
        return "warning"
    return INDICATOR[decision.level]


def build_card(decision: Decision, facts: EhrFacts, scores: Mapping[str, EhrScore],
               config: CardConfig, patient_id: str | None = None,
               letter_token: str | None = None) -> Card:  # fmt: skip
    """The card; a clearance_required card with a stored letter links to its PDF."""
    links = []
    if letter_token and decision.level is Level.CLEARANCE_REQUIRED:
        links.append(Link(label=LETTER_LABEL, url=letter_url(config, letter_token)))
    return Card(
        uuid=str(uuid.uuid4()),
        summary=summary(decision),
        detail=card_detail(decision, facts, scores),
        indicator=indicator(decision),
        source=Source(label="clotsafe screening policy (version "
                      f"{decision.policy_version})", url=f"{config.base_url}{config.policy_path}"),
        overrideReasons=[Coding(system=OVERRIDE_SYSTEM, code=c, display=d)
                         for c, d in OVERRIDE_REASONS],
        links=links,
    )  # fmt: skip


def card_detail(decision: Decision, facts: EhrFacts, scores: Mapping[str, EhrScore]) -> str:
    """Markdown: the decision (plan and reasons), what the record said and where, the scores."""
    parts = [render(decision), _record_section(decision, facts)]
    if scores:
        parts.append(_scores_section(scores))
    if facts.warnings:
        parts.append(_warnings_section(facts))
    return "\n\n".join(p for p in parts if p)


#: characters that start inline Markdown (CommonMark and GitHub's tables and strikethrough);
#: block syntax needs a line start, which escaped text never has (line breaks become spaces)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~!])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def md_escape(text: str) -> str:
    """Text from the EHR (ids, code systems, units, names) as inert Markdown: every character
    that could open a link, image, emphasis, code, HTML or a table cell is backslash-escaped
    and line breaks become spaces, so ``[x](javascript:alert(1))`` shows as itself."""
    return _MD_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", text))


def _record_section(decision: Decision, facts: EhrFacts) -> str:
    lines = ["**From the record** (answers clotsafe read; anything not listed stayed "
             "unanswered, never \"no\")", ""]  # fmt: skip
    for path, refs in facts.sources.items():
        if path in facts.answers:
            answer = present.answer_lines({path: facts.answers[path]})[0]
            where = ", ".join(md_escape(_short(r)) for r in refs)
            lines.append(f"- {md_escape(_short(answer))} — {where}")
    used = dict.fromkeys(k for r in decision.reasons for k in r.answers)
    if used:
        lines.append("")
        lines.append("Rules fired on: " + "; ".join(present.path_words(k) for k in used))
    return "\n".join(lines) if len(lines) > 2 else ""


def _short(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "…"


def _scores_section(scores: Mapping[str, EhrScore]) -> str:
    lines = ["**Scores from the record** (unknown items bound the score; they are never "
             "counted as absent)", "", "| score | range | band | unknown items |",
             "|---|---|---|---|"]  # fmt: skip
    warnings = []
    for name, s in scores.items():
        d, calc = s.to_dict(), builtin_calculators()[name]
        labels = {i.id: i.label for i in calc.items(s.result.version)}
        unknown = "; ".join(labels.get(i, i) for i in d["unknown"]) or "none"
        rng = f"{d['lower']}" if d["lower"] == d["upper"] else f"{d['lower']}–{d['upper']}"
        band = d["band"] if d["band"] == d["band_upper"] else f"{d['band']} to {d['band_upper']}"
        lines.append(f"| {calc.title} | {rng} | {band} | {unknown} |")
        if "warning" in d:
            warnings.append(f"> **{calc.title}**: {d['warning']}")
    return "\n".join([*lines, "", *warnings])


def _warnings_section(facts: EhrFacts) -> str:
    lines = ["**Not used from the record**", ""]
    lines += [f"- {md_escape(_short(w.message))}" for w in facts.warnings[:20]]
    if len(facts.warnings) > 20:
        lines.append(f"- … and {len(facts.warnings) - 20} more")
    return "\n".join(lines)


def screening_date(request: CdsRequest, today: date) -> date:
    """The date the decision is for: the appointment's start for appointment-book, else today."""
    if request.hook != "appointment-book":
        return today
    starts = []
    bundle = request.context.get("appointments") or {}
    for e in _list(bundle.get("entry")) if isinstance(bundle, dict) else ():
        res = e.get("resource") if isinstance(e, dict) else None
        raw = res.get("start") if isinstance(res, dict) else None
        if isinstance(raw, str):
            try:
                starts.append(datetime.fromisoformat(raw.replace("Z", "+00:00")).date())
            except ValueError:
                continue
    return min([d for d in starts if d >= today], default=today)


def no_patient() -> FhirInputError:
    return FhirInputError([problem("context.patientId", "missing_field",
                                   "this hook needs context.patientId")])  # fmt: skip
