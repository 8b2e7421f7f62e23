from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "clotsafe.web.audit"
    label = "clotsafe_audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clotsafe.web.audit import signals  # noqa: F401  (connects the receivers)

        self._guard_admin()

    def _guard_admin(self) -> None:
        """The admin for the operator only, every change audited (the admin app's ready(),
        earlier in INSTALLED_APPS, has loaded every admin module by now)."""
        from django.apps import apps
        from django.contrib import admin

        from clotsafe.web.audit.adminlog import audit_every_admin, restrict_site

        if apps.is_installed("django.contrib.admin"):
            restrict_site(admin.site)
            audit_every_admin(admin.site)
