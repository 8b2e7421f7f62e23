"""One CDS Hooks call, end to end and pure: request JSON in, response JSON out.

Resources come from prefetch; what is missing is fetched from ``fhirServer`` (with the given
bearer token); when neither is possible :class:`PrefetchMissing` is raised (HTTP 412).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from clotsafe.domain.decision import Decision
from clotsafe.domain.types import Level
from clotsafe.fhir.cds import PREFETCH as TEMPLATES
from clotsafe.fhir.cds import (
    SERVICES,
    CardConfig,
    CdsRequest,
    CdsResponse,
    LetterRequest,
    LetterStore,
    build_card,
    fill_template,
    is_massage_order,
    missing_prefetch,
    no_patient,
    parse_request,
    patient_details,
    screening_date,
)
from clotsafe.fhir.client import FhirClient
from clotsafe.fhir.codes import SNOMED, CodeLists, canonical_system, code_lists
from clotsafe.fhir.ehr import EhrFacts, derive_prefetch
from clotsafe.fhir.errors import FhirInputError, PrefetchMissing, problem
from clotsafe.fhir.scores import score_findings
from clotsafe.rules.screener import Screener

Fetcher = Callable[[CdsRequest], FhirClient]

#: the engine's executor with the policy's default settings (the CDS service has no clinic)
SCREENER = Screener()


class UnknownService(LookupError):
    """No CDS service with this id (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class HookResult:
    response: dict[str, Any]
    facts: EhrFacts | None
    #: the card's level (None: no card, e.g. order-select without a massage order)
    level: str | None = None


def _client(request: CdsRequest) -> FhirClient:
    token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
    return FhirClient(request.fhirServer or "", token)


def gather(request: CdsRequest, make_client: Fetcher = _client) -> dict[str, Any]:
    """Prefetch plus whatever had to be fetched, keyed like the prefetch templates."""
    data = dict(request.prefetch or {})
    missing = missing_prefetch(request)
    if not missing:
        return data
    if not request.fhirServer:
        raise PrefetchMissing([problem(f"prefetch.{k}", "prefetch_missing",
                                       "not prefetched and no fhirServer to fetch it from")
                               for k in missing])  # fmt: skip
    client = make_client(request)
    for key in missing:
        query = fill_template(TEMPLATES[key], request.context)
        if query is None:
            raise no_patient()
        data[key] = client.get(query)
    return data


def unread_conditions_dropped(data: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """The prefetch with the Conditions the reader would pass over left out before it starts.

    A Synthea record holds ~170 Conditions, most of them findings clotsafe does not read. One
    whose codes all come from known systems and none is on the code lists is neither read nor
    warned about (fhir/ehr.py), so it is dropped here -- but only when its subject names this
    patient plainly (``Patient/<id>`` or ``urn:uuid:<id>``, which the reader's subject check
    always accepts), so a resource about another patient still stops the call. Its entry
    becomes ``{}`` (an entry without a resource, skipped), so the paths of the others stay the
    same. The facts read are identical (tests/fhir/test_fhir_cds_speed.py)."""
    bundle = data.get("conditions")
    if not isinstance(bundle, dict) or not isinstance(bundle.get("entry"), list):
        return data
    entries = bundle["entry"]
    lists = code_lists()
    own = {f"Patient/{patient_id}", f"urn:uuid:{patient_id}"}
    kept = [{} if _unread_condition(e, lists, own) else e for e in entries]
    return {**data, "conditions": {**bundle, "entry": kept}}


def _unread_condition(entry: Any, lists: CodeLists, own: set[str]) -> bool:
    res = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(res, dict) or res.get("resourceType") != "Condition" or "patient" in res:
        return False
    subject = res.get("subject")
    target = subject.get("reference") if isinstance(subject, dict) else None
    if not (isinstance(target, str) and target in own):
        return False
    concept = res.get("code")
    raw = concept.get("coding") if isinstance(concept, dict) else None
    return isinstance(raw, list) and _all_unlisted(raw, lists)


def _all_unlisted(raw: list[Any], lists: CodeLists) -> bool:
    """True when the codings hold at least one code and every code is from a known system and
    on no list (the Codings :func:`clotsafe.fhir.resources.codings` yields, read inline: this
    runs for every Condition of every call)."""
    seen = False
    snomed = lists.snomed_conditions
    for c in raw:
        code = c.get("code") if isinstance(c, dict) else None
        if not isinstance(code, (str, int)):
            continue
        system = c.get("system")
        if system == SNOMED:  # the common case: a plain lookup
            if str(code) in snomed:
                return False
        elif _kept(system, str(code), lists):
            return False
        seen = True
    return seen


def _kept(system: Any, code: str, lists: CodeLists) -> bool:
    """An unknown system (the reader warns) or a listed code (the reader reads it)."""
    if not isinstance(system, str) or canonical_system(system) is None:
        return True
    return lists.condition(system, code) is not None


def _letter(letters: LetterStore | None, decision: Decision, facts: EhrFacts,
            request: CdsRequest, service_id: str, patient: Any) -> str | None:  # fmt: skip
    """For clearance_required only: hand what the letter needs to the store; its token."""
    if letters is None or decision.level is not Level.CLEARANCE_REQUIRED:
        return None
    name, birth = patient_details(patient)
    user = request.context.get("userId")
    return letters.issue(LetterRequest(
        outcome=decision, intake=facts.intake_json(), service_id=service_id,
        hook_instance=request.hookInstance, user_id=user if isinstance(user, str) else "",
        patient_name=name, birth_date=birth,
    ))  # fmt: skip


def handle(service_id: str, body: Any, *, today: date, config: CardConfig | None = None,
           make_client: Fetcher = _client, letters: LetterStore | None = None,
           screener: Screener = SCREENER) -> HookResult:  # fmt: skip
    """Answer one hook call (raises FhirInputError / PrefetchMissing / UnknownService).

    The decision comes from the engine's executor (``screener``: rules and settings passed
    in, the time passed in as the screening date). With ``letters``, a clearance_required card
    links to a consultation letter kept there."""
    service = SERVICES.get(service_id)
    if service is None:
        raise UnknownService(service_id)
    request = parse_request(body)
    if request.hook != service.hook:
        raise FhirInputError([problem("hook", "wrong_hook",
                                      f"service {service_id} answers {service.hook}",
                                      request.hook)])  # fmt: skip
    patient_id = request.context.get("patientId")
    if not isinstance(patient_id, str):
        raise no_patient()
    if service.hook == "order-select" and not is_massage_order(request):
        return HookResult(CdsResponse(cards=[]).model_dump(exclude_none=True), None)
    at = screening_date(request, today)
    data = unread_conditions_dropped(gather(request, make_client), patient_id)
    facts = derive_prefetch(data, at=at, patient_id=patient_id)
    decision = screener.screen_one(facts.intake(), at=at)
    scores = score_findings(facts.findings, facts.finding_sources)
    token = _letter(letters, decision, facts, request, service_id, data.get("patient"))
    card = build_card(decision, facts, scores, config or CardConfig(), patient_id, token)
    response = CdsResponse(cards=[card]).model_dump(exclude_none=True)
    return HookResult(response, facts, decision.level.value)
