"""The client's intake on a phone: /i/<token>/... The token is the only key; it opens only that
client's own form. Closed links (expired, revoked, already sent) get a clear page, never a crash.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clotsafe.domain.types import Level
from clotsafe.render import present
from clotsafe.web import texts
from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.clients.services import find_link
from clotsafe.web.intake import fields, forms, history, services, steps
from clotsafe.web.screenings.services import today


def _words(link: IntakeLink) -> dict[str, Any]:
    clinic = link.client.clinic
    return {"t": texts.client_text(), "number": clinic.emergency_number, "clinic": clinic.name}


def _state(link: IntakeLink | None) -> str:
    """The link's state for the client's pages: a sent link's pages (its end page, its
    emergency screen) close when the link expires, like the link itself."""
    if link is None:
        return "expired"
    if not link.client.clinic.is_active:  # a deactivated clinic's links are closed to clients
        return "revoked"
    state = link.state()
    if state == "submitted" and link.expires_at <= timezone.now():
        return "expired"
    return state


def _closed(request: HttpRequest, link: IntakeLink | None) -> HttpResponse:
    state = _state(link)
    message = texts.client_text()["closed"].get(state, texts.client_text()["closed"]["expired"])
    status = 200 if state == "submitted" else 410
    return render(request, "intake/closed.html", {"message": message}, status=status)


def _gone(request: HttpRequest, link: IntakeLink, token: str) -> HttpResponse:
    """The link was closed while this request waited: sent (a second tap on Send) goes to the
    end page; revoked or expired gets the closed page."""
    if _state(link) == "submitted":
        return redirect("intake_done", token=token)
    return _closed(request, link)


def _open(token: str) -> IntakeLink | None:
    link = find_link(token)
    return link if link and link.is_open and link.client.clinic.is_active else None


def start(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(token)
    if link is None:
        return _closed(request, find_link(token))
    services.opened(link, request)
    first = steps.applicable(link.answers)[0]
    t = texts.client_text()["start"]
    return render(request, "intake/start.html", {
        "title": t["title"], "body": texts.fill(t["body"], clinic=link.client.clinic.name),
        "button": t["button"], "first_url": _step_url(token, first.key)})  # fmt: skip


def _step_url(token: str, key: str) -> str:
    return reverse("intake_step", args=[token, key])


def _step_or_404(key: str) -> steps.Step:
    step = steps.BY_KEY.get(key)
    if step is None:
        raise Http404("no such step")
    return step


def _render_step(request: HttpRequest, link: IntakeLink, token: str, step: steps.Step,
                 errors: dict[forms.Path, str], extra_clots: int = 0,
                 partial: bool = False) -> HttpResponse:  # fmt: skip
    qids = steps.enabled(step, link.answers)
    number, total = steps.position(step, link.answers)
    prev = steps.previous_step(step, link.answers)
    t = texts.client_text()
    context = {
        "token": token, "step": step, "title": t["steps"][step.key],
        "intro": t["step_intro"].get(step.intro, ""),
        "fields": fields.build_fields(qids, services.draft(link, errors, extra_clots)),
        "shown": ",".join(qids), "number": number, "total": total,
        "back_url": _step_url(token, prev.key) if prev else reverse("intake_start", args=[token]),
        "last": steps.next_step(step, link.answers) is None,
        "save_url": reverse("intake_save", args=[token, step.key]),
        "has_errors": bool(errors), "clot_words": texts.questions()["clots"], "t": t,
    }  # fmt: skip
    template = "intake/_fields.html" if partial else "intake/step.html"
    return render(request, template, context, status=422 if errors and not partial else 200)


def step(request: HttpRequest, token: str, key: str) -> HttpResponse:
    link = _open(token)
    if link is None:
        return _closed(request, find_link(token))
    current = _step_or_404(key)
    if request.method != "POST":
        return _render_step(request, link, token, current, {})
    qids = _posted_questions(request, link, current)
    saved = services.save(link.pk, qids, request.POST, require=True, today=today())
    link = saved.link
    if saved.closed:
        return _gone(request, link, token)
    if saved.level == Level.EMERGENCY.value:
        return redirect("intake_emergency", token=token)
    if "add_clot" in request.POST:
        return _render_step(request, link, token, current, {}, extra_clots=1)
    if set(steps.enabled(current, link.answers)) - set(qids):
        return _render_step(request, link, token, current, saved.errors)  # new follow-ups
    if saved.errors:
        return _render_step(request, link, token, current, saved.errors)
    return _advance(request, link, token, current, saved.level)


def _posted_questions(request: HttpRequest, link: IntakeLink, current: steps.Step) -> list[str]:
    """The questions of this step that were on the client's screen (or apply now)."""
    shown = [q for q in request.POST.get("shown", "").split(",") if q in current.questions]
    return list(dict.fromkeys([*steps.enabled(current, link.answers), *shown]))


def _advance(request: HttpRequest, link: IntakeLink, token: str, current: steps.Step,
             level: str) -> HttpResponse:  # fmt: skip
    if current.red_flag_check and level == Level.URGENT_REFERRAL.value:
        return redirect(reverse("intake_urgent", args=[token]) + f"?after={current.key}")
    following = steps.next_step(current, link.answers)
    if following is None:
        services.submit(link, request)  # once, even when sent several times at once
        return redirect("intake_done", token=token)
    return redirect("intake_step", token=token, key=following.key)


@require_POST
def save(request: HttpRequest, token: str, key: str) -> HttpResponse:
    """Autosave (on every change, from app.js): store the answers whose sequence number is
    newer, re-draw the fields of this step so follow-up questions appear, and go to the
    emergency screen at once when a red flag says so."""
    link = _open(token)
    if link is None:
        response = HttpResponse(status=410)
        response["HX-Redirect"] = reverse("intake_start", args=[token])
        return response
    current = _step_or_404(key)
    qids = _posted_questions(request, link, current)
    saved = services.save(link.pk, qids, request.POST, require=False, today=today())
    if saved.closed:
        response = HttpResponse(status=410)
        response["HX-Redirect"] = reverse("intake_start", args=[token])
        return response
    if saved.level == Level.EMERGENCY.value:
        response = HttpResponse(status=200)
        response["HX-Redirect"] = reverse("intake_emergency", args=[token])
        return response
    return _render_step(request, saved.link, token, current, saved.errors, partial=True)


def emergency(request: HttpRequest, token: str) -> HttpResponse:
    link = find_link(token)
    if link is None or _state(link) in ("revoked", "expired"):
        return _closed(request, link)
    words = _words(link)
    t = words["t"]["emergency"]
    n = words["number"]
    first = steps.STEPS[0].key
    title = texts.fill(t["title"], number=n)
    if link.is_open:
        services.mark_shown(link, Level.EMERGENCY, title)
    return render(request, "intake/emergency.html", {
        "title": title, "body": t["body"], "number": n,
        "do": [texts.fill(x, number=n) for x in t["do"]], "mistake": t["mistake"],
        "back_url": _step_url(token, first) if link.is_open else "",
    })  # fmt: skip


def urgent(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(token)
    if link is None:
        return _closed(request, find_link(token))
    t = texts.client_text()["urgent"]
    n = link.client.clinic.emergency_number
    after = steps.BY_KEY.get(request.GET.get("after", ""), steps.STEPS[2])
    following = steps.next_step(after, link.answers)
    services.mark_shown(link, Level.URGENT_REFERRAL, t["title"])
    return render(request, "intake/urgent.html", {
        "title": t["title"], "body": t["body"],
        "dvt": t["dvt"] if "RF-DVT" in services.fired_rules(link) else "",
        "watch": texts.fill(t["watch"], number=n), "number": n,
        "go_on": t["go_on"], "go_on_button": t["go_on_button"],
        "next_url": _step_url(token, following.key) if following else "",
    })  # fmt: skip


def done(request: HttpRequest, token: str) -> HttpResponse:
    """The end page: the level's message for the client (never a green light for an incomplete
    screening), the FAQ, and the client's confirmation of the answers (once)."""
    link = find_link(token)
    if link is None or _state(link) != "submitted":
        return _closed(request, link)
    words = texts.client_text()["consent"]
    form = forms.ConsentForm(request.POST or None, words=words)
    consent = history.consent_for(link)
    if request.method == "POST" and consent is None and form.is_valid():
        services.confirm(link, form.cleaned_data["name"], words["statement"], request)
        return redirect("intake_done", token=token)
    screening = services.submitted_screening(link)
    n = link.client.clinic.emergency_number
    # POLICY §2 through the one presenter: an incomplete standard/adapt screening reads as
    # "screening incomplete", never as the level's green light
    badge = (present.level_badge(Level(screening.level), screening.complete, n)
             if screening else None)  # fmt: skip
    return render(request, "intake/done.html", {
        "t": texts.client_text()["end"], "badge": badge, "cw": words, "form": form,
        "consent": consent,
        "message": badge.client if badge else "",
        "incomplete": (texts.levels()["incomplete"]["client"]
                       if screening and not screening.complete and badge
                       and badge.id != "incomplete" else ""),
        "faq": texts.faq(),
    }, status=422 if form.errors else 200)  # fmt: skip
