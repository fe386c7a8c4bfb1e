from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "solodesk.clients"
    label = "clients"
