from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "solodesk.projects"
    label = "projects"
