from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "solodesk.webhooks"
    label = "webhooks"
