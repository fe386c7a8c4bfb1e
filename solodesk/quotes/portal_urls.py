"""The client's quote link, mounted at /p/q/ with no login: the token is the key."""

from django.urls import path

from solodesk.quotes import portal_views

app_name = "quote_portal"
urlpatterns = [
    path("<str:token>/", portal_views.quote_portal, name="quote"),
    path("<str:token>/pdf", portal_views.quote_portal_pdf, name="pdf"),
    path("<str:token>/accept/", portal_views.quote_portal_accept, name="accept"),
    path("<str:token>/decline/", portal_views.quote_portal_decline, name="decline"),
]
