from django.urls import path

from solodesk.projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_new, name="new"),
    path("<uuid:public_id>/edit/", views.project_edit, name="edit"),
    path("<uuid:public_id>/archive/", views.project_archive, name="archive"),
]
