from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "solodesk.core"
    label = "core"
