"""Screening page, decision JSON, consultation letter, before-session re-check, clearances."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clotsafe.domain.errors import FieldError
from clotsafe.render import present as words
from clotsafe.web.access import ClinicRequest, clinic_view
from clotsafe.web.audit.services import log
from clotsafe.web.clearances import services as clearances
from clotsafe.web.clients.models import Client
from clotsafe.web.screenings import letter, present, readback, redflags, services
from clotsafe.web.screenings.forms import ClearanceForm, RecheckForm
from clotsafe.web.screenings.models import Screening


def _screening(request: ClinicRequest, pk: int) -> Screening:
    return get_object_or_404(Screening.objects.select_related("client", "clinic"), pk=pk,
                             clinic=request.clinic)  # fmt: skip


def _client(request: ClinicRequest, pk: int) -> Client:
    return get_object_or_404(Client.objects.select_related("latest_screening", "clinic"), pk=pk,
                             clinic=request.clinic)  # fmt: skip


@clinic_view
def screening_detail(request: ClinicRequest, pk: int) -> HttpResponse:
    screening = _screening(request, pk)
    log(request.clinic, request.user, "view", screening)
    context = present.screening_context(screening, request.clinic.emergency_number)
    changed = redflags.changes(screening)
    context["badge"] = redflags.badge(screening, context["badge"])
    return render(request, "clotsafe/screening.html", {
        "screening": screening, **context, "red_flag_changes": changed,
        "needs_ack": redflags.needs_ack(screening, bool(changed)),
        "consent": redflags.consent(screening),
        "is_latest": screening.client.latest_screening_id == screening.pk})  # fmt: skip


@clinic_view
@require_POST
def acknowledge(request: ClinicRequest, pk: int) -> HttpResponse:
    """The therapist has seen the changed red flag (who and when are kept, and audited)."""
    screening = _screening(request, pk)
    redflags.acknowledge(screening, by=request.user)
    return redirect("screening_detail", pk=screening.pk)


@clinic_view
def answers(request: ClinicRequest, pk: int) -> HttpResponse:
    """Every answer of the screening in plain language, changes since the one before marked."""
    screening = _screening(request, pk)
    log(request.clinic, request.user, "view", screening, detail="answers read back")
    before = services.previous(screening)
    groups = readback.read_back(screening.answers, before.answers if before else None,
                                redflags.other_medicines(screening))  # fmt: skip
    return render(request, "clotsafe/answers.html", {
        "screening": screening, "groups": groups, "before": before,
        "changed": readback.changed_count(groups) if before else 0,
        "consent": redflags.consent(screening)})  # fmt: skip


@clinic_view
def screening_json(request: ClinicRequest, pk: int) -> HttpResponse:
    screening = _screening(request, pk)
    log(request.clinic, request.user, "export", screening, detail="decision JSON")
    return JsonResponse({"intake": screening.intake, "decision": screening.decision,
                         "policy_version": screening.policy_version})  # fmt: skip


@clinic_view
def letter_pdf(request: ClinicRequest, pk: int) -> HttpResponse:
    screening = _screening(request, pk)
    if not present.letter_fits(present.decision_of(screening)):
        raise Http404("This screening needs no consultation letter.")
    log(request.clinic, request.user, "export", screening, detail="consultation letter PDF")
    response = HttpResponse(letter.render_pdf(screening, request.user,
                                              consent=redflags.consent_text(screening)),
                            content_type="application/pdf")  # fmt: skip
    response["Content-Disposition"] = f'attachment; filename="clotsafe-letter-{screening.pk}.pdf"'
    return response


@clinic_view
def recheck(request: ClinicRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    previous = client.latest_screening
    medicated = bool(previous and words.on_blood_thinners(previous.answers))
    form = RecheckForm(request.POST or None, medicated=medicated)
    if request.method == "POST" and form.is_valid():
        screening = services.recheck(client, form.answers(), by=request.user)
        return redirect("screening_detail", pk=screening.pk)
    return render(request, "clotsafe/recheck.html", {"client": client, "form": form,
                                                     "previous": previous})  # fmt: skip


@clinic_view
def clearance_new(request: ClinicRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    latest = client.latest_screening
    to_clear = words.rules_to_clear(present.decision_of(latest)) if latest else []
    rules = [(r.rule, f"{r.rule}: {r.summary}") for r in to_clear]
    form = ClearanceForm(request.POST or None, rules=rules,
                         initial={"date": services.today()})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.clearance_data()
        errors = clearances.check(client, data)
        if not errors:
            _, screening = clearances.record(client, data, by=request.user)
            return redirect("screening_detail", pk=screening.pk)
        for e in errors:
            _show_error(form, e)
    return render(request, "clotsafe/clearance_new.html", {"client": client, "form": form,
                                                           "latest": latest})  # fmt: skip


def _show_error(form: ClearanceForm, error: FieldError) -> None:
    """The engine's error on the form field it is about (``clearances[0].date`` -> date), in
    words only: the therapist never sees an answer path."""
    name = error.field.rsplit(".", 1)[-1]
    form.add_error(name if name in form.fields else None, words.plain(error.message))
