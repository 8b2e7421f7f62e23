from django.apps import AppConfig


class ScreeningsConfig(AppConfig):
    name = "clotsafe.web.screenings"
    label = "clotsafe_screenings"
    default_auto_field = "django.db.models.BigAutoField"
