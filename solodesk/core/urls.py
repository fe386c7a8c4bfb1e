from django.urls import path

from solodesk.core import views

app_name = "core"
urlpatterns = [
    path("jobs/<uuid:public_id>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:public_id>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<uuid:public_id>/download/", views.job_download, name="job_download"),
]
