from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "clotsafe.web.api"
    label = "api"
    verbose_name = "JSON API"
