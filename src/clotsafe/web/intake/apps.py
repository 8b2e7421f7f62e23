from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "clotsafe.web.intake"
    label = "clotsafe_intake"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """The hardening that has no app of its own: the client's answers are kept in private
        files (SQLite) and no intake token reaches a log line."""
        from django.db.backends.signals import connection_created

        from clotsafe.web import dbfiles, logfilters

        connection_created.connect(dbfiles.on_connection_created, dispatch_uid="clotsafe-dbfiles")
        logfilters.install()
