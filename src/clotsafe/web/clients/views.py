"""Therapist workspace: client list (search, archive), client page, intake links (PRG)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from clotsafe.web.access import ClinicRequest, clinic_view
from clotsafe.web.audit.services import log
from clotsafe.web.clients import services
from clotsafe.web.clients.forms import ClientForm, EmailForm
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.screenings import present, redflags
from clotsafe.web.screenings.services import history_with_changes
from clotsafe.web.texts import LEVELS

PAGE_SIZE = 100
#: session key: intake link id -> its token, so that the page can show it again after the
#: redirect (and on a reload) while the therapist stays logged in; only a hash is in the database
SHOWN = "intake_tokens"


@clinic_view
def client_list(request: ClinicRequest) -> HttpResponse:
    level = request.GET.get("level", "")
    if level not in (*LEVELS, "incomplete"):
        level = ""
    search = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    archived = request.GET.get("archived") == "1"
    qs = services.client_list(request.clinic, level, search=search, archived=archived)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    clients = list(page)
    flagged = redflags.list_flags(clients)
    rows = [_row(c, c.pk in flagged) for c in clients]
    filters = [{"id": lv, "label": present.level_badge(lv).label} for lv in LEVELS]
    keep = urlencode({k: v for k, v in (("level", level), ("q", search),
                                        ("archived", "1" if archived else "")) if v})  # fmt: skip
    return render(request, "clotsafe/client_list.html", {
        "rows": rows, "page": page, "level": level, "filters": filters, "q": search,
        "archived": archived, "keep": keep})  # fmt: skip


def _row(c: Client, red_flag_changed: bool) -> dict[str, object]:
    """One list row as plain strings: the list must stay fast with thousands of clients."""
    s = c.latest_screening
    badge = present.level_badge(c.level, complete=bool(s.complete) if s else True)
    if red_flag_changed:
        badge = redflags.CHECK_BADGE if badge.id in ("standard", "adapt") else badge
    return {
        "name": c.name, "reference": c.reference, "url": reverse("client_detail", args=[c.pk]),
        "badge": badge, "red_flag_changed": red_flag_changed,
        "screening_url": reverse("screening_detail", args=[s.pk]) if s else "",
        "screened": s.created_at.date().isoformat() if s else "",
        "incomplete": bool(s and not s.complete), "intake_open": getattr(c, "intake_open", False),
    }  # fmt: skip


@clinic_view
def client_new(request: ClinicRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = services.create_client(request.clinic, by=request.user, **form.cleaned_data)
        return redirect("client_detail", pk=client.pk)
    return render(request, "clotsafe/client_new.html", {"form": form})


@clinic_view
def client_edit(request: ClinicRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        services.update_client(Client.objects.get(pk=client.pk), form.cleaned_data,
                               by=request.user)  # fmt: skip
        messages.success(request, "Client details saved.")
        return redirect("client_detail", pk=client.pk)
    return render(request, "clotsafe/client_edit.html", {"form": form, "client": client})


@clinic_view
@require_POST
def client_archive(request: ClinicRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    archived = request.POST.get("archived") == "1"
    services.set_archived(client, archived, by=request.user)
    messages.success(request, "Archived: the client is off the client list." if archived
                     else "The client is back on the client list.")  # fmt: skip
    return redirect("client_detail", pk=client.pk)


def _client(request: ClinicRequest, pk: int) -> Client:
    return get_object_or_404(Client.objects.select_related("latest_screening", "clinic"), pk=pk,
                             clinic=request.clinic)  # fmt: skip


def _history(client: Client) -> list[dict[str, Any]]:
    return [{"screening": s, "change": change,
             "badge": present.level_badge(s.level, complete=s.complete),
             "consent": redflags.consent(s), "red_flags": redflags.changes(s)}
            for s, change in history_with_changes(client)]  # fmt: skip


def _shown_links(request: ClinicRequest, client: Client) -> list[dict[str, Any]]:
    """The links made in this session that are still open, with their URL and QR code."""
    tokens: dict[str, str] = dict(request.session.get(SHOWN, {}))
    links = IntakeLink.objects.filter(client=client, pk__in=[int(k) for k in tokens])
    out = []
    for link in links.order_by("-created_at"):
        if link.is_open:
            url = request.build_absolute_uri(reverse("intake_start", args=[tokens[str(link.pk)]]))
            out.append({"link": link, "url": url, "qr": services.qr_svg(url)})
        else:  # a closed link's token is forgotten at once
            del tokens[str(link.pk)]
    if len(tokens) != len(request.session.get(SHOWN, {})):
        request.session[SHOWN] = tokens
    return out


@clinic_view
def client_detail(request: ClinicRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    log(request.clinic, request.user, "view", client)
    latest = client.latest_screening
    badge = present.level_badge(client.level, complete=bool(latest.complete) if latest else True)
    check = bool(latest and redflags.needs_ack(latest))
    return render(request, "clotsafe/client_detail.html", {
        "client": client, "badge": redflags.badge(latest, badge) if latest else badge,
        "red_flag_check": check, "history": _history(client),
        "links": client.intake_links.order_by("-created_at")[:10],
        "shown_links": _shown_links(request, client)})  # fmt: skip


def _remember(request: ClinicRequest, link: IntakeLink, token: str) -> None:
    tokens = dict(request.session.get(SHOWN, {}))
    tokens[str(link.pk)] = token
    request.session[SHOWN] = tokens


def _send(request: ClinicRequest, link: IntakeLink, token: str, to: str,
          reminder: bool = False) -> None:  # fmt: skip
    url = request.build_absolute_uri(reverse("intake_start", args=[token]))
    sent = services.email_link(link, url, to, by=request.user, reminder=reminder)
    what = "Reminder" if reminder else "Intake link"
    if sent.folder:
        messages.info(request, f"{what} for {sent.to} written to the folder {sent.folder} "
                               "(no mail server is set: see CLOTSAFE_SMTP_HOST).")  # fmt: skip
    else:
        messages.success(request, f"{what} e-mailed to {sent.to}.")


@clinic_view
@require_POST
def link_create(request: ClinicRequest, pk: int) -> HttpResponse:
    """Make a link, show it after a redirect (a reload never makes a second one)."""
    client = _client(request, pk)
    form = EmailForm(request.POST)
    to = request.POST.get("email", "").strip()
    if to and not form.is_valid():
        messages.error(request, "Not sent: enter a valid e-mail address, or leave it empty.")
        return redirect("client_detail", pk=client.pk)
    link, token = services.create_link(client, by=request.user)
    _remember(request, link, token)
    if to:
        _send(request, link, token, form.cleaned_data["email"])
    return redirect("client_detail", pk=client.pk)


def _open_link(request: ClinicRequest, pk: int, link_pk: int) -> tuple[Client, IntakeLink]:
    client = _client(request, pk)
    return client, get_object_or_404(IntakeLink, pk=link_pk, client=client)


@clinic_view
@require_POST
def link_email(request: ClinicRequest, pk: int, link_pk: int) -> HttpResponse:
    """E-mail a link made in this session (its token is known only here)."""
    client, link = _open_link(request, pk, link_pk)
    form = EmailForm(request.POST)
    token = request.session.get(SHOWN, {}).get(str(link.pk))
    if not form.is_valid():
        messages.error(request, "Not sent: enter a valid e-mail address.")
    elif not token or not link.is_open:
        messages.error(request, "This link can no longer be sent: send a reminder instead.")
    else:
        _send(request, link, token, form.cleaned_data["email"])
    return redirect("client_detail", pk=client.pk)


@clinic_view
@require_POST
def link_remind(request: ClinicRequest, pk: int, link_pk: int) -> HttpResponse:
    """A reminder for an unfinished intake: a fresh URL for the same link, answers kept."""
    client, link = _open_link(request, pk, link_pk)
    form = EmailForm(request.POST)
    if not link.is_open:
        messages.error(request, "This link is closed: create a new one.")
    elif not form.is_valid():
        messages.error(request, "No e-mail address: add one to the client's details.")
    else:
        token = services.rotate_token(link)
        _remember(request, link, token)
        _send(request, link, token, form.cleaned_data["email"], reminder=True)
    return redirect("client_detail", pk=client.pk)


@clinic_view
@require_POST
def link_revoke(request: ClinicRequest, pk: int, link_pk: int) -> HttpResponse:
    client, link = _open_link(request, pk, link_pk)
    services.revoke_link(link, by=request.user)
    return redirect("client_detail", pk=client.pk)
