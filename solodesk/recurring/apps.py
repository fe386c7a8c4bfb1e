from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "solodesk.recurring"
    label = "recurring"
