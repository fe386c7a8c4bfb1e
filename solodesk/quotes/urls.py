from django.urls import path

from solodesk.quotes import views

app_name = "quotes"
urlpatterns = [
    path("", views.quote_list, name="list"),
    path("new/", views.quote_new, name="new"),
    path("<uuid:public_id>/", views.quote_detail, name="detail"),
    path("<uuid:public_id>/pdf/", views.quote_pdf, name="pdf"),
    path("<uuid:public_id>/edit/", views.quote_edit, name="edit"),
    path("<uuid:public_id>/delete/", views.quote_delete, name="delete"),
    path("<uuid:public_id>/send/", views.quote_send, name="send"),
    path("<uuid:public_id>/convert/", views.quote_convert, name="convert"),
]
