"""Clients and their intake links (tokens of 256 random bits; only a hash is stored)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from clotsafe.web.audit.services import log
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.clinics.models import Clinic

TOKEN_BYTES = 32  # 256 bits
CONTACT_FIELDS = ("name", "reference", "date_of_birth", "email", "phone")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_client(clinic: Clinic, *, name: str, reference: str, by: User,
                  **contact: Any) -> Client:  # fmt: skip
    """A new client; ``contact``: date_of_birth, email, phone."""
    extra = {k: v for k, v in contact.items() if k in CONTACT_FIELDS}
    client = Client.objects.create(clinic=clinic, name=name, reference=reference, created_by=by,
                                   **extra)  # fmt: skip
    log(clinic, by, "create", client)
    return client


def update_client(client: Client, data: dict[str, Any], *, by: User) -> None:
    """Save the client's own data; the audit log names the fields that changed (not values)."""
    changed = [f for f in CONTACT_FIELDS if getattr(client, f) != data[f]]
    for f in changed:
        setattr(client, f, data[f])
    if changed:
        client.save(update_fields=changed)
        log(client.clinic, by, "change", client, detail="changed " + ", ".join(changed))


def set_archived(client: Client, archived: bool, *, by: User) -> None:
    """Archive (or bring back) a client: off the list and the search, history kept."""
    if archived == (client.archived_at is not None):
        return
    client.archived_at = timezone.now() if archived else None
    client.save(update_fields=["archived_at"])
    log(client.clinic, by, "change", client, detail="archived" if archived else "unarchived")


def client_list(clinic: Clinic, level: str = "", *, search: str = "",
                archived: bool = False) -> QuerySet[Client]:  # fmt: skip
    """The clinic's clients with their newest screening and whether an intake is unfinished;
    ``search`` matches the name or the clinic's reference (case-insensitive, any part)."""
    open_links = IntakeLink.objects.filter(
        client=OuterRef("pk"), submitted_at__isnull=True, revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )  # fmt: skip
    qs = (Client.objects.filter(clinic=clinic, archived_at__isnull=not archived)
          .select_related("latest_screening")
          .only("id", "name", "reference", "level", "latest_screening__id",
                "latest_screening__complete", "latest_screening__created_at",
                "latest_screening__level", "latest_screening__kind",
                "latest_screening__red_flag_ack_at")
          .annotate(intake_open=Exists(open_links))
          .order_by("name", "id"))  # fmt: skip
    search = search.strip()[:100]
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(reference__icontains=search))
    if level == "incomplete":
        return qs.filter(Q(latest_screening__complete=False) | Q(latest_screening__isnull=True))
    if level:
        qs = qs.filter(level=level)
    return qs


def create_link(client: Client, *, by: User) -> tuple[IntakeLink, str]:
    """A new personal intake link; returns the link and its token (shown once)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = IntakeLink.objects.create(
        client=client, token_hash=token_hash(token), created_by=by,
        expires_at=timezone.now() + timedelta(days=settings.INTAKE_LINK_DAYS),
    )  # fmt: skip
    log(client.clinic, by, "create", link, detail=f"intake link for client {client.pk}")
    return link, token


def rotate_token(link: IntakeLink) -> str:
    """A new token for the same link (its saved answers kept): a reminder carries a fresh URL,
    since only the hash of the first one was kept. The earlier URL stops working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link.token_hash = token_hash(token)
    link.save(update_fields=["token_hash"])
    return token


def qr_svg(url: str) -> str:
    """The link as a QR code (inline SVG, made here: nothing is fetched) for the front desk."""
    svg: str = segno.make(url, error="m").svg_inline(scale=4, title="QR code of the intake link")
    return svg


@dataclass(frozen=True)
class Sent:
    """Where a mail went: the address, and the folder when no mail server is set."""

    to: str
    folder: str = ""


def email_link(link: IntakeLink, url: str, to: str, *, by: User, reminder: bool = False) -> Sent:
    """Send the intake link (or a reminder) by e-mail through Django's mail framework."""
    clinic = link.client.clinic
    context = {"clinic": clinic, "client": link.client, "url": url, "reminder": reminder,
               "expires": timezone.localtime(link.expires_at)}  # fmt: skip
    subject = (f"Reminder: your health questions for {clinic.name}" if reminder
               else f"Your health questions for {clinic.name}")  # fmt: skip
    body = render_to_string("clotsafe/email_link.txt", context)
    EmailMessage(subject, body, to=[to]).send()
    now = timezone.now()
    link.emailed_to = to
    if reminder:
        link.reminded_at = now
    else:
        link.emailed_at = now
    link.save(update_fields=["emailed_to", "reminded_at" if reminder else "emailed_at"])
    log(clinic, by, "change", link, detail=f"{'reminder' if reminder else 'intake link'} e-mailed")
    return Sent(to, folder=mail_folder())


def mail_folder() -> str:
    """The folder mails are written to when no SMTP server is set ("" when one is)."""
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return str(settings.EMAIL_FILE_PATH)
    return ""


def revoke_link(link: IntakeLink, *, by: User) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        log(link.client.clinic, by, "change", link, detail="revoked")


def find_link(token: str) -> IntakeLink | None:
    if not token or len(token) > 100:
        return None
    return (IntakeLink.objects.select_related("client", "client__clinic")
            .filter(token_hash=token_hash(token)).first())  # fmt: skip
