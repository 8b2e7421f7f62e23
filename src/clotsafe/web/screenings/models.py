"""Stored screenings: the answers, the decision JSON and the policy version they were made with."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from clotsafe.web.clients.models import Client
from clotsafe.web.clinics.models import Clinic


class Screening(models.Model):
    class Kind(models.TextChoices):
        INTAKE = "intake", "Client intake"
        RECHECK = "recheck", "Before-session re-check"
        CLEARANCE = "clearance", "Clearance recorded"
        DEMO = "demo", "Demo data"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="screenings")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")  # fmt: skip
    screened_on = models.DateField()
    #: the intake JSON evaluated (screened_on, answers, clearances)
    intake: models.JSONField[Any] = models.JSONField()
    #: the decision JSON of POLICY §7, as the engine returned it
    decision: models.JSONField[Any] = models.JSONField()
    level = models.CharField(max_length=30, db_index=True)
    complete = models.BooleanField()
    policy_version = models.CharField(max_length=20)
    #: the clinic settings (TOML) in force, empty for the default policy
    settings_toml = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")  # fmt: skip
    #: the therapist has seen that the client changed a red-flag answer from yes (issue 8 §1.3)
    red_flag_ack_at = models.DateTimeField(null=True, blank=True)
    red_flag_ack_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")  # fmt: skip

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "-created_at"])]

    @property
    def answers(self) -> dict[str, Any]:
        result: dict[str, Any] = self.intake.get("answers", {})
        return result
