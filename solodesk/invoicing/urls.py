from django.urls import path

from solodesk.invoicing import views

app_name = "invoicing"
urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("new/", views.invoice_new, name="new"),
    path("from-time/", views.invoice_from_time, name="from_time"),
    path("<uuid:public_id>/", views.invoice_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.invoice_edit, name="edit"),
    path("<uuid:public_id>/delete/", views.invoice_delete, name="delete"),
    path("<uuid:public_id>/issue/", views.invoice_issue, name="issue"),
    path("<uuid:public_id>/void/", views.invoice_void, name="void"),
    path("<uuid:public_id>/credit-note/", views.invoice_credit_note, name="credit_note"),
    path("<uuid:public_id>/payments/", views.payment_new, name="payment_new"),
    path("<uuid:public_id>/payments/all/", views.invoice_payment_list, name="payment_list"),
    path("<uuid:public_id>/activity/", views.invoice_activity_list, name="activity_list"),
    path(
        "<uuid:public_id>/payments/<uuid:payment_id>/delete/",
        views.payment_delete,
        name="payment_delete",
    ),
    path("<uuid:public_id>/send/", views.invoice_send, name="send"),
    path("<uuid:public_id>/pdf/", views.invoice_pdf, name="pdf"),
    path(
        "<uuid:public_id>/client-link/regenerate/",
        views.portal_link_regenerate,
        name="portal_link_regenerate",
    ),
    path(
        "<uuid:public_id>/client-link/revoke/",
        views.portal_link_revoke,
        name="portal_link_revoke",
    ),
    path(
        "<uuid:public_id>/deliveries/<uuid:delivery_id>/",
        views.delivery_status,
        name="delivery_status",
    ),
]
