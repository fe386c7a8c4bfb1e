from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "solodesk.reminders"
    label = "reminders"
