"""Clearances recorded from a clinician's answer to the consultation letter (POLICY §5)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from clotsafe.web.clients.models import Client
from clotsafe.web.clinics.models import Clinic


class Clearance(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="clearances")
    rules: models.JSONField[Any] = models.JSONField()
    clinician = models.CharField(max_length=200)
    date = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    #: {"pressure_max": {region_or_group: level}, "avoid": [...], "notes": "..."}
    restrictions: models.JSONField[Any] = models.JSONField(default=dict)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")  # fmt: skip

    class Meta:
        ordering = ["-date", "-id"]

    def to_intake_json(self) -> dict[str, Any]:
        """The clearance as the intake JSON carries it (POLICY §5)."""
        out: dict[str, Any] = {"rules": list(self.rules), "clinician": self.clinician,
                               "date": self.date.isoformat()}  # fmt: skip
        if self.valid_until:
            out["valid_until"] = self.valid_until.isoformat()
        out["restrictions"] = {
            "pressure_max": dict(self.restrictions.get("pressure_max", {})),
            "avoid": list(self.restrictions.get("avoid", [])),
            "notes": str(self.restrictions.get("notes", "")),
        }
        return out
