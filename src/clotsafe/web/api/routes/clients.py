"""Clients of the caller's clinic and their intake links (create, send, revoke)."""

from __future__ import annotations

import logging
import smtplib
from datetime import date
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Router, Status

from clotsafe.web.api import common
from clotsafe.web.api.common import IdPath
from clotsafe.web.api.errors import ApiError
from clotsafe.web.api.schemas import (
    ClientIn,
    ClientOut,
    ClientPage,
    ClientPatch,
    ErrorsOut,
    LevelFilter,
    LinkIn,
    LinkOut,
    LinkWithUrl,
    Offset,
    Page,
    Search,
    SendIn,
)
from clotsafe.web.api.serialize import client_out, link_out
from clotsafe.web.clients import services
from clotsafe.web.clients.forms import ClientForm, EmailForm
from clotsafe.web.clients.models import Client, IntakeLink

router = Router(tags=["clients"])
logger = logging.getLogger(__name__)

NOT_FOUND = {404: ErrorsOut}
BAD_INPUT = {400: ErrorsOut, 422: ErrorsOut}
CLIENT_ID = IdPath("a client of your clinic")
LINK_ID = IdPath("an intake link of that client")


@router.get("/clients", response={200: ClientPage, 422: ErrorsOut})
def client_list(
    request: HttpRequest,
    q: Search = "",
    level: LevelFilter | None = None,
    archived: bool = False,
    limit: Page = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The clinic's clients by name; ``q`` matches the name or your reference."""
    qs = services.client_list(common.clinic(request), level or "", search=q, archived=archived)
    ids = list(qs[offset : offset + limit].values_list("pk", flat=True))
    page = Client.objects.filter(pk__in=ids).select_related("latest_screening")
    return {"count": qs.count(), "items": [client_out(c) for c in page.order_by("name", "id")]}


@router.post("/clients", response={201: ClientOut, **BAD_INPUT})
def client_create(request: HttpRequest, payload: ClientIn) -> Status[dict[str, Any]]:
    form = ClientForm(_form_data(payload.model_dump()))
    if not form.is_valid():
        raise common.form_errors(form, date_fields=("date_of_birth",))
    client = services.create_client(
        common.clinic(request), by=common.user(request), **form.cleaned_data
    )
    return Status(201, client_out(client))


@router.get("/clients/{client_id}", response={200: ClientOut, **NOT_FOUND, 422: ErrorsOut})
def client_detail(request: HttpRequest, client_id: int = CLIENT_ID) -> dict[str, Any]:
    return client_out(common.client_of(request, client_id))


@router.patch("/clients/{client_id}", response={200: ClientOut, **NOT_FOUND, **BAD_INPUT})
def client_update(
    request: HttpRequest, payload: ClientPatch, client_id: int = CLIENT_ID
) -> dict[str, Any]:
    """Change the given fields; ``archived`` takes the client off (or back on) the list."""
    client = common.client_of(request, client_id)
    given = payload.model_dump(exclude_unset=True)
    archived = given.pop("archived", None)
    current = {f: getattr(client, f) for f in services.CONTACT_FIELDS}
    form = ClientForm(_form_data({**current, **given}), instance=client)
    if not form.is_valid():
        raise common.form_errors(form, date_fields=("date_of_birth",))
    fresh = Client.objects.select_related("clinic", "latest_screening").get(pk=client.pk)
    services.update_client(fresh, form.cleaned_data, by=common.user(request))
    if archived is not None:
        services.set_archived(fresh, archived, by=common.user(request))
    return client_out(fresh)


def _form_data(values: dict[str, Any]) -> dict[str, str]:
    """Values as a submitted form has them (the web pages' validation applies as it is)."""
    out = {}
    for k, v in values.items():
        out[k] = "" if v is None else v.isoformat() if isinstance(v, date) else str(v)
    return out


# --- intake links ---------------------------------------------------------------------------


@router.get(
    "/clients/{client_id}/links", response={200: list[LinkOut], **NOT_FOUND, 422: ErrorsOut}
)
def link_list(request: HttpRequest, client_id: int = CLIENT_ID) -> list[dict[str, Any]]:
    client = common.client_of(request, client_id)
    return [link_out(k) for k in client.intake_links.order_by("-created_at", "-id")]


@router.post(
    "/clients/{client_id}/links",
    response={201: LinkWithUrl, 502: ErrorsOut, **NOT_FOUND, **BAD_INPUT},
)
def link_create(
    request: HttpRequest, payload: LinkIn, client_id: int = CLIENT_ID
) -> Status[dict[str, Any]]:
    """A new personal intake link (its URL is in this answer only); e-mailed if ``email``."""
    client = common.client_of(request, client_id)
    to = _email(payload.email) if payload.email else None
    link, secret = services.create_link(client, by=common.user(request))
    return Status(201, _with_url(request, link, secret, to))


@router.post(
    "/clients/{client_id}/links/{link_id}/send",
    response={200: LinkWithUrl, 409: ErrorsOut, 502: ErrorsOut, **NOT_FOUND, **BAD_INPUT},
)
def link_send(
    request: HttpRequest, payload: SendIn, client_id: int = CLIENT_ID, link_id: int = LINK_ID
) -> dict[str, Any]:
    """E-mail an open link. Only a hash of its URL is kept, so the link gets a fresh URL (the
    answers saved so far stay); the earlier URL stops working."""
    link = _link(request, client_id, link_id)
    if not link.is_open:
        raise ApiError(409, "link_closed", f"this intake link is {link.state()}: make a new one")
    to = _email(payload.email)
    reminder = link.emailed_at is not None
    return _with_url(request, link, services.rotate_token(link), to, reminder=reminder)


@router.post(
    "/clients/{client_id}/links/{link_id}/revoke",
    response={200: LinkOut, **NOT_FOUND, 422: ErrorsOut},
)
def link_revoke(
    request: HttpRequest, client_id: int = CLIENT_ID, link_id: int = LINK_ID
) -> dict[str, Any]:
    link = _link(request, client_id, link_id)
    services.revoke_link(link, by=common.user(request))
    return link_out(link)


def _link(request: HttpRequest, client_id: int, link_id: int) -> IntakeLink:
    client = common.client_of(request, client_id)
    return get_object_or_404(
        IntakeLink.objects.select_related("client__clinic"), pk=link_id, client=client
    )


def _email(address: str) -> str:
    form = EmailForm({"email": address})
    if not form.is_valid():
        raise common.form_errors(form)
    return str(form.cleaned_data["email"])


def _with_url(
    request: HttpRequest, link: IntakeLink, secret: str, to: str | None, *, reminder: bool = False
) -> dict[str, Any]:
    url = request.build_absolute_uri(reverse("intake_start", args=[secret]))
    if to:
        try:
            services.email_link(link, url, to, by=common.user(request), reminder=reminder)
        except (smtplib.SMTPException, OSError) as exc:  # the mail server refused or is down
            logger.warning("intake link %s not e-mailed: %r", link.pk, exc)
            raise ApiError(
                502, "mail_failed", MAIL_FAILED.format(link.pk, link.client_id)
            ) from None
    return {"link": link_out(link), "url": url, "emailed_to": to}


MAIL_FAILED = (
    "the intake link (id {0}) is made but the mail server did not take the e-mail: send it "
    "again with POST /api/v1/clients/{1}/links/{0}/send (it then gets a fresh URL)"
)
