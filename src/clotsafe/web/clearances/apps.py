from django.apps import AppConfig


class ClearancesConfig(AppConfig):
    name = "clotsafe.web.clearances"
    label = "clotsafe_clearances"
    default_auto_field = "django.db.models.BigAutoField"
