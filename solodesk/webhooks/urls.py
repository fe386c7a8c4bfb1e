from django.urls import path

from solodesk.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new/", views.endpoint_new, name="new"),
    path("<uuid:public_id>/", views.endpoint_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.endpoint_edit, name="edit"),
    path("<uuid:public_id>/delete/", views.endpoint_delete, name="delete"),
    path("<uuid:public_id>/enable/", views.endpoint_enable, name="enable"),
    path("<uuid:public_id>/disable/", views.endpoint_disable, name="disable"),
    path("<uuid:public_id>/secret/", views.endpoint_secret_regenerate, name="secret"),
    path("<uuid:public_id>/ping/", views.endpoint_ping, name="ping"),
]
