from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "clotsafe.web.clinics"
    label = "clotsafe_clinics"
    default_auto_field = "django.db.models.BigAutoField"
