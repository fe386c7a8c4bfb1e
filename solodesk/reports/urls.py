from django.urls import path

from solodesk.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.yearly, name="yearly"),
    path("report.csv", views.yearly_csv, name="yearly_csv"),
]
