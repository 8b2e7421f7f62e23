from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "clotsafe.web.intake"
    label = "clotsafe_intake"
    default_auto_field = "django.db.models.BigAutoField"
