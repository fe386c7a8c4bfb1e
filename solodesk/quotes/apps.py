from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "solodesk.quotes"
    label = "quotes"
