from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clotsafe.web.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from clotsafe.web.accounts import checks  # noqa: F401 - registers the deployment check
