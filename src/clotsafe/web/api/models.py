"""Per-clinic API tokens (docs/api.md). Only a SHA-256 of the token is stored: shown once."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from clotsafe.web.clinics.models import Clinic


class ApiToken(models.Model):
    """A bearer token for the JSON API: it acts as ``user`` within ``clinic``."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: what the token is for ("booking site"), shown on the Team page
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    #: the token's first characters, to tell tokens apart (not enough to use one)
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API token {self.prefix}… of {self.user} @ {self.clinic}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
