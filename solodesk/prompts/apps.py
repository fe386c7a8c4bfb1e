from django.apps import AppConfig


class PromptsConfig(AppConfig):
    name = "solodesk.prompts"
    label = "prompts"
