"""A URLconf with only the health endpoint, on a fresh router from the same factory as
the one config/api.py mounts, so its tests do not depend on the mounting."""

from django.urls import path
from ninja import NinjaAPI

from solodesk.core.api import build_health_router

api = NinjaAPI(urls_namespace="health-test", docs_url=None, openapi_url=None)
api.add_router("/health", build_health_router())

urlpatterns = [path("api/v1/", api.urls)]
