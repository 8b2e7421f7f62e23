"""Therapist workspace: client list, new client, client page, intake links."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clotsafe.web.access import ClinicRequest, clinic_view
from clotsafe.web.audit.services import log
from clotsafe.web.clients import services
from clotsafe.web.clients.forms import ClientForm
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.screenings import present
from clotsafe.web.screenings.services import history_with_changes
from clotsafe.web.texts import LEVELS

PAGE_SIZE = 100


@clinic_view
def client_list(request: ClinicRequest) -> HttpResponse:
    level = request.GET.get("level", "")
    if level not in (*LEVELS, "incomplete"):
        level = ""
    page = Paginator(services.client_list(request.clinic, level), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [_row(c) for c in page]
    filters = [{"id": lv, "label": present.level_badge(lv).label} for lv in LEVELS]
    return render(request, "clotsafe/client_list.html",
                  {"rows": rows, "page": page, "level": level, "filters": filters})  # fmt: skip


def _row(c: Client) -> dict[str, object]:
    """One list row as plain strings: the list must stay fast with thousands of clients."""
    s = c.latest_screening
    return {
        "name": c.name, "reference": c.reference, "url": reverse("client_detail", args=[c.pk]),
        "badge": present.level_badge(c.level, complete=bool(s.complete) if s else True),
        "screening_url": reverse("screening_detail", args=[s.pk]) if s else "",
        "screened": s.created_at.date().isoformat() if s else "",
        "incomplete": bool(s and not s.complete), "intake_open": getattr(c, "intake_open", False),
    }  # fmt: skip


@clinic_view
def client_new(request: ClinicRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = services.create_client(request.clinic, name=form.cleaned_data["name"],
                                        reference=form.cleaned_data["reference"],
                                        by=request.user)  # fmt: skip
        return redirect("client_detail", pk=client.pk)
    return render(request, "clotsafe/client_new.html", {"form": form})


def _client(request: ClinicRequest, pk: int) -> Client:
    return get_object_or_404(Client.objects.select_related("latest_screening"), pk=pk,
                             clinic=request.clinic)  # fmt: skip


def _detail(request: ClinicRequest, client: Client, new_link: str = "") -> HttpResponse:
    log(request.clinic, request.user, "view", client)
    links = client.intake_links.order_by("-created_at")[:10]
    return render(request, "clotsafe/client_detail.html", {
        "client": client,
        "badge": present.level_badge(client.level, complete=_complete(client)),
        "history": history_with_changes(client),
        "links": links,
        "new_link": new_link,
    })  # fmt: skip


def _complete(client: Client) -> bool:
    s = client.latest_screening
    return bool(s.complete) if s else True


@clinic_view
def client_detail(request: ClinicRequest, pk: int) -> HttpResponse:
    return _detail(request, _client(request, pk))


@clinic_view
@require_POST
def link_create(request: ClinicRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    _, token = services.create_link(client, by=request.user)
    url = request.build_absolute_uri(f"/i/{token}/")
    return _detail(request, client, new_link=url)


@clinic_view
@require_POST
def link_revoke(request: ClinicRequest, pk: int, link_pk: int) -> HttpResponse:
    client = _client(request, pk)
    link = get_object_or_404(IntakeLink, pk=link_pk, client=client)
    services.revoke_link(link, by=request.user)
    return redirect("client_detail", pk=client.pk)
