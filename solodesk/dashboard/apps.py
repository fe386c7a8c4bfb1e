from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "solodesk.dashboard"
    label = "dashboard"
