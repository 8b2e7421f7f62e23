"""Clinics and who belongs to them (the accounts side: Django users + a membership)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

EMERGENCY_NUMBER = RegexValidator(
    r"^[0-9]{2,6}$", "Enter the emergency number as digits, e.g. 911."
)


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    #: shown to clients on the emergency screen (911, 999, 112 ...)
    emergency_number = models.CharField(max_length=6, default="911",
                                        validators=[EMERGENCY_NUMBER])  # fmt: skip
    #: the clinic's stricter settings (POLICY §6) as TOML, validated by the engine on save
    settings_toml = models.TextField(blank=True)

    class Units(models.TextChoices):
        METRIC = "metric", "Metric (cm, kg)"
        US = "us", "US (ft/in, lb)"

    #: units the client's form asks height and weight in (answers are stored metric)
    units = models.CharField(max_length=10, choices=Units.choices, default=Units.METRIC)
    #: the operator's switch (admin): a deactivated clinic keeps its records and audit log, but
    #: no member opens its pages, its API tokens are refused and its intake links are closed
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Untick to deactivate: its members cannot open any page or use the API, and "
        "its clients' intake links stop working. Its records are kept.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        THERAPIST = "therapist", "Therapist"
        LEAD = "lead", "Clinic lead"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="membership")  # fmt: skip
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.THERAPIST)

    @property
    def is_lead(self) -> bool:
        return self.role == self.Role.LEAD

    def __str__(self) -> str:
        return f"{self.user} @ {self.clinic} ({self.role})"
