"""Clients of a clinic and their intake links (the draft answers live on the link)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from clotsafe.web.clinics.models import Clinic


class Client(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(max_length=200)
    reference = models.CharField(max_length=100, blank=True,
                                 help_text="Your own client number, if you use one.")  # fmt: skip
    #: the clinic's own contact data: shown on the client page; the birth date identifies the
    #: client on the consultation letter
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    #: archived clients leave the list (and its search) but keep their history
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")  # fmt: skip
    #: denormalised from the newest screening, for the client list
    latest_screening = models.ForeignKey("clotsafe_screenings.Screening", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")  # fmt: skip
    level = models.CharField(max_length=30, blank=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "level"]),
            models.Index(fields=["clinic", "name"]),
        ]

    def __str__(self) -> str:
        return self.name


class IntakeLink(models.Model):
    """A personal intake link. Only a SHA-256 of the token is stored (the token is shown once)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="intake_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")  # fmt: skip
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    #: where the link was e-mailed, when, and when the last reminder went out
    emailed_to = models.EmailField(max_length=254, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answers: models.JSONField[Any] = models.JSONField(default=dict, blank=True)

    def state(self) -> str:
        """open, submitted, revoked or expired."""
        if self.revoked_at:
            return "revoked"
        if self.submitted_at:
            return "submitted"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"

    @property
    def is_open(self) -> bool:
        return self.state() == "open"
