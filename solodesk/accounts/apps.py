from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "solodesk.accounts"
    label = "accounts"
