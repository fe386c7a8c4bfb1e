from django.urls import path

from solodesk.reminders import views

app_name = "reminders"
urlpatterns = [
    path("settings/", views.reminder_settings, name="settings"),
    path("invoices/<uuid:public_id>/send/", views.invoice_send, name="invoice_send"),
    path("invoices/<uuid:public_id>/automatic/", views.invoice_toggle, name="invoice_toggle"),
]
