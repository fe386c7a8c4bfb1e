from django.apps import AppConfig


class TimetrackingConfig(AppConfig):
    name = "solodesk.timetracking"
    label = "timetracking"
