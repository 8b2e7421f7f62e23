from __future__ import annotations

from django.apps import AppConfig


class CdsConfig(AppConfig):
    name = "clotsafe.web.cds"
    label = "cds"
    verbose_name = "CDS Hooks service"
    default_auto_field = "django.db.models.BigAutoField"
