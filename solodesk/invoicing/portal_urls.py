"""The client portal's URLs, mounted at /p/ with no login: the token is the key."""

from django.urls import path

from solodesk.invoicing import portal_views

app_name = "portal"
urlpatterns = [
    path("<str:token>/", portal_views.invoice_portal, name="invoice"),
    path("<str:token>/pdf", portal_views.invoice_portal_pdf, name="invoice_pdf"),
]
