from django.contrib import admin
from django.urls import include, path

from solodesk.config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("", include("solodesk.dashboard.urls")),
    path("", include("solodesk.accounts.urls")),
    path("", include("solodesk.core.urls")),
    path("clients/", include("solodesk.clients.urls")),
    path("projects/", include("solodesk.projects.urls")),
    path("time/", include("solodesk.timetracking.urls")),
    path("invoices/", include("solodesk.invoicing.urls")),
    path("quotes/", include("solodesk.quotes.urls")),
    path("reminders/", include("solodesk.reminders.urls")),
    path("recurring/", include("solodesk.recurring.urls")),
    path("webhooks/", include("solodesk.webhooks.urls")),
    path("prompts/", include("solodesk.prompts.urls")),
    path("expenses/", include("solodesk.expenses.urls")),
    path("reports/", include("solodesk.reports.urls")),
    # The client portal: no login, the secret token in the path is the key.
    path("p/q/", include("solodesk.quotes.portal_urls")),
    path("p/", include("solodesk.invoicing.portal_urls")),
]
