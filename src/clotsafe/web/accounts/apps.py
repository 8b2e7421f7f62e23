from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clotsafe.web.accounts"
    label = "accounts"
    verbose_name = "Accounts"
