from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clotsafe.web.clients"
    label = "clotsafe_clients"
    default_auto_field = "django.db.models.BigAutoField"
