from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "solodesk.reports"
    label = "reports"
