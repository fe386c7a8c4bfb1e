from django.urls import path

from solodesk.accounts import views

urlpatterns = [
    path("settings/workspace/", views.workspace_settings, name="workspace_settings"),
    path("settings/tokens/", views.api_tokens, name="api_tokens"),
    path(
        "settings/tokens/<uuid:public_id>/revoke/",
        views.api_token_revoke_view,
        name="api_token_revoke",
    ),
]
