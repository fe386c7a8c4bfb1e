from django.urls import path

from solodesk.expenses import views

app_name = "expenses"
urlpatterns = [
    path("", views.expense_list, name="list"),
    path("new/", views.expense_new, name="new"),
    path("<uuid:public_id>/edit/", views.expense_edit, name="edit"),
    path("<uuid:public_id>/delete/", views.expense_delete, name="delete"),
]
