from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "clotsafe.web.audit"
    label = "clotsafe_audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clotsafe.web.audit import signals  # noqa: F401  (connects the receivers)
