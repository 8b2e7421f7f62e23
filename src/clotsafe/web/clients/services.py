"""Clients and their intake links (tokens of 256 random bits; only a hash is stored)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from clotsafe.web.audit.services import log
from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.clinics.models import Clinic

TOKEN_BYTES = 32  # 256 bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_client(clinic: Clinic, *, name: str, reference: str, by: User) -> Client:
    client = Client.objects.create(clinic=clinic, name=name, reference=reference, created_by=by)
    log(clinic, by, "create", client)
    return client


def client_list(clinic: Clinic, level: str = "") -> QuerySet[Client]:
    """The clinic's clients with their newest screening and whether an intake is unfinished."""
    open_links = IntakeLink.objects.filter(
        client=OuterRef("pk"), submitted_at__isnull=True, revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )  # fmt: skip
    qs = (Client.objects.filter(clinic=clinic)
          .select_related("latest_screening")
          .only("id", "name", "reference", "level", "latest_screening__id",
                "latest_screening__complete", "latest_screening__created_at",
                "latest_screening__level", "latest_screening__kind")
          .annotate(intake_open=Exists(open_links))
          .order_by("name", "id"))  # fmt: skip
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
