"""The client's intake draft: save answers as they go (in the order the client gave them),
record red flags at once, submit, and the client's confirmation.

Every save runs in one transaction with the link locked, applies a question's posted value only
when its sequence number is newer than the last one applied (a slow, late save never overwrites
a newer answer), and evaluates the engine once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clotsafe.domain.errors import IntakeError
from clotsafe.domain.questions import BY_ID, RED_FLAG_IDS
from clotsafe.domain.types import Level
from clotsafe.web import engine
from clotsafe.web.audit.services import log
from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.intake import forms, steps
from clotsafe.web.intake.fields import Draft
from clotsafe.web.intake.models import Consent, DraftState, OtherMedicine, RedFlagReport
from clotsafe.web.screenings import services as screenings
from clotsafe.web.screenings.models import Screening

ACTOR = "client (intake link)"
FLAGGED = ("yes", "unsure")
#: red-flag questions answered yes/no/unsure (rf_limb_site only says where)
RED_FLAG_QUESTIONS = tuple(q for q in RED_FLAG_IDS if BY_ID[q].type == "tri")
logger = logging.getLogger(__name__)


def units(link: IntakeLink) -> str:
    value = getattr(link.client.clinic, "units", "metric")
    return "us" if value == "us" else "metric"


def state_of(link: IntakeLink) -> DraftState:
    """The link's draft state (not stored until a save writes it: a page view writes nothing)."""
    return DraftState.objects.filter(link=link).first() or DraftState(link=link)


def draft(link: IntakeLink, errors: dict[forms.Path, str] | None = None,
          extra_clots: int = 0) -> Draft:  # fmt: skip
    """What the step pages are drawn from."""
    state = state_of(link)
    others = {m.question_id: m.text for m in OtherMedicine.objects.filter(link=link)}
    return Draft(link.answers, errors or {}, state.raw, state.seqs,
                 state.clot_drafts.get("rows", []), state.approx, others, units(link),
                 extra_clots)  # fmt: skip


@dataclass
class Saved:
    link: IntakeLink
    errors: dict[forms.Path, str] = field(default_factory=dict)
    level: str = ""
    rules: frozenset[str] = frozenset()
    #: the link was sent, revoked or expired before this save got its lock: nothing was saved
    closed: bool = False


#: sequence numbers are counted by the page's script: anything else is not one
MAX_SEQ = 2**53


def _seq(data: Any, qid: str) -> int | None:
    try:
        seq = int(data.get(f"seq-{qid}", ""))
    except ValueError:
        return None
    return seq if 0 <= seq <= MAX_SEQ else None


#: saves of one process run one at a time (the database transaction orders the rest)
_SAVING = threading.Lock()


def save(link_pk: int, qids: Sequence[str], data: Any, *, require: bool, today: date) -> Saved:
    """Apply the posted answers of these questions; a question whose posted sequence number is
    not newer than the last applied one is left as it is (a late, older save)."""
    with _SAVING:
        return _save(link_pk, qids, data, require=require, today=today)


@transaction.atomic
def _save(link_pk: int, qids: Sequence[str], data: Any, *, require: bool, today: date) -> Saved:
    link = IntakeLink.objects.select_for_update().select_related("client__clinic").get(pk=link_pk)
    if not link.is_open:  # sent (or closed) by another request since this one looked
        return Saved(link, closed=True)
    state = DraftState.objects.select_for_update().get_or_create(link=link)[0]
    before = dict(link.answers)
    answers = dict(before)
    errors: dict[forms.Path, str] = {}
    form = forms.step_form(qids, data, today=today, units=units(link))
    form.is_valid()
    for qid in qids:
        seq = _seq(data, qid)
        if seq is not None and seq <= int(state.seqs.get(qid, 0)):
            continue  # an older save arriving late: the newer answer stays
        if seq is not None:
            state.seqs[qid] = seq
        parsed = forms.parse_question(qid, form, data, today=today)
        _apply(link, state, answers, qid, parsed)
        errors.update(parsed.errors)
    answers = steps.prune(answers)
    _forget_pruned(state, answers)
    if require:
        errors.update(forms.required_errors(qids, answers, state.clot_drafts.get("rows", [])))
    link.answers = answers
    fields_ = ["answers"]
    if link.started_at is None:
        link.started_at = timezone.now()
        fields_.append("started_at")
    link.save(update_fields=fields_)
    state.save()
    track_red_flags(link, before, answers)
    return _evaluated(link, errors, today)


def _apply(link: IntakeLink, state: DraftState, answers: dict[str, Any], qid: str,
           parsed: forms.Parsed) -> None:  # fmt: skip
    if parsed.value is None:
        answers.pop(qid, None)
    else:
        answers[qid] = parsed.value
    for name in [n for n in state.raw if n == qid or n.startswith(f"{qid}-")]:
        del state.raw[name]
    state.raw.update(parsed.raw)
    state.approx.pop(qid, None)
    state.approx.update(parsed.approx)
    if parsed.clot_rows is not None:
        state.clot_drafts = {"rows": parsed.clot_rows}
    if parsed.other is not None:
        OtherMedicine.objects.update_or_create(link=link, question_id=qid,
                                               defaults={"text": parsed.other})  # fmt: skip


def _forget_pruned(state: DraftState, answers: dict[str, Any]) -> None:
    """A follow-up that no longer applies keeps nothing typed (its trigger was changed)."""
    if not BY_ID["clots"].enabled(answers):
        state.clot_drafts = {}
    for name in list(state.raw):
        qid = name.split("-")[0]
        if qid in BY_ID and not BY_ID[qid].enabled(answers):
            del state.raw[name]


def _evaluated(link: IntakeLink, errors: dict[forms.Path, str], today: date) -> Saved:
    """The one evaluation of this request; a red flag is recorded for the therapist at once."""
    try:
        result = engine.run(link.answers, today, settings_toml=link.client.clinic.settings_toml)
    except IntakeError as exc:  # the forms check what the engine checks; never expected
        logger.error("intake draft of link %s does not validate: %s", link.pk, exc)
        return Saved(link, errors)
    saved = Saved(link, errors, result.level, frozenset(r.rule for r in result.outcome.reasons))
    if result.outcome.level >= Level.URGENT_REFERRAL:
        record_red_flag(link, saved)
    return saved


def fired_rules(link: IntakeLink) -> frozenset[str]:
    return evaluate(link)[1]


def evaluate(link: IntakeLink) -> tuple[str, frozenset[str]]:
    try:
        result = engine.run(link.answers, screenings.today(),
                            settings_toml=link.client.clinic.settings_toml)  # fmt: skip
    except IntakeError:
        return "", frozenset()
    return result.level, frozenset(r.rule for r in result.outcome.reasons)


# --- red flags ------------------------------------------------------------------------------


def track_red_flags(link: IntakeLink, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Every yes/unsure to a red-flag question is kept; changing it to no (or it being
    cleared) is recorded with when (issue 8 §1.3)."""
    now = timezone.now()
    for qid in RED_FLAG_QUESTIONS:
        was, new = before.get(qid), after.get(qid)
        if (was in FLAGGED) == (new in FLAGGED):
            continue
        if new in FLAGGED:
            RedFlagReport.objects.create(link=link, question_id=qid, answer=new, answered_at=now)
        else:
            RedFlagReport.objects.filter(link=link, question_id=qid, changed_at=None).update(
                changed_to=new or "", changed_at=now
            )


def mark_shown(link: IntakeLink, level: Level, text: str) -> None:
    """The client was sent to the screen of this level: the red flags standing now say so."""
    for report in RedFlagReport.objects.filter(link=link, changed_at=None):
        if not report.shown_level or Level(report.shown_level) < level:
            report.shown_level, report.shown_text = level.value, text
            report.save(update_fields=["shown_level", "shown_text"])


def _recorded(link: IntakeLink) -> Screening | None:
    return (Screening.objects.filter(client=link.client, kind=Screening.Kind.INTAKE,
                                     created_at__gte=link.created_at)
            .order_by("-created_at", "-id").first())  # fmt: skip


def record_red_flag(link: IntakeLink, saved: Saved) -> None:
    """A same-day or emergency red flag is recorded at once as an (incomplete) intake
    screening, so the therapist sees it even if the client never finishes; the link stays
    open. Recorded again only when it adds a level or a rule."""
    latest = _recorded(link)
    if latest is not None and Level(latest.level) >= Level(saved.level):
        known = {r["rule"] for r in latest.decision.get("reasons", [])}
        if saved.rules <= known:
            return
    screenings.record(link.client, link.answers, kind=Screening.Kind.INTAKE, by=None,
                      actor=ACTOR)  # fmt: skip
    log(link.client.clinic, None, "submit", link, actor=ACTOR,
        detail=f"answers kept early for client {link.client_id} (not yet sent)")  # fmt: skip


# --- sending --------------------------------------------------------------------------------


@transaction.atomic
def submit(link: IntakeLink, request: HttpRequest | None = None) -> Screening | None:
    """Send the answers as the client's screening, once: the link is locked and re-read, so
    the same link sent many times at once (a double tap, a retry) makes exactly one screening.
    Returns None when it was already sent (or closed) by then."""
    link = IntakeLink.objects.select_for_update().select_related("client__clinic").get(pk=link.pk)
    if not link.is_open:
        return None
    screening = screenings.record(link.client, link.answers, kind=Screening.Kind.INTAKE, by=None,
                                  actor=ACTOR)  # fmt: skip
    link.submitted_at = timezone.now()
    link.save(update_fields=["submitted_at"])
    log(link.client.clinic, None, "submit", link, actor=ACTOR, request=request,
        detail=f"intake submitted for client {link.client_id}")  # fmt: skip
    return screening


def opened(link: IntakeLink, request: HttpRequest) -> None:
    """The client opened the link: the first time is audited (with the request's address and
    browser), later views are not (every step would flood the log)."""
    state = DraftState.objects.get_or_create(link=link)[0]
    first = DraftState.objects.filter(pk=state.pk, opened_at=None).update(opened_at=timezone.now())
    if first:
        log(link.client.clinic, None, "view", link, actor=ACTOR, request=request,
            detail=f"intake link opened by client {link.client_id}")  # fmt: skip


def submitted_screening(link: IntakeLink) -> Screening | None:
    return _recorded(link)


def confirm(link: IntakeLink, name: str, statement: str,
            request: HttpRequest | None = None) -> Consent:  # fmt: skip
    """The client confirms the answers are theirs and true (typed name, time); once."""
    consent, _ = Consent.objects.get_or_create(
        link=link, defaults={"name": name[:200], "statement": statement,
                             "confirmed_at": timezone.now()})  # fmt: skip
    log(link.client.clinic, None, "submit", link, actor=ACTOR, request=request,
        detail=f"client {link.client_id} confirmed the answers")  # fmt: skip
    return consent
