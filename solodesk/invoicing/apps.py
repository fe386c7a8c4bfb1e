from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "solodesk.invoicing"
    label = "invoicing"
