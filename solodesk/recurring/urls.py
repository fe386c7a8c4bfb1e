from django.urls import path

from solodesk.recurring import views

app_name = "recurring"
urlpatterns = [
    path("", views.profile_list, name="list"),
    path("new/", views.profile_new, name="new"),
    path("<uuid:public_id>/", views.profile_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.profile_edit, name="edit"),
    path("<uuid:public_id>/pause/", views.profile_pause, name="pause"),
    path("<uuid:public_id>/resume/", views.profile_resume, name="resume"),
    path("<uuid:public_id>/delete/", views.profile_delete, name="delete"),
    path("<uuid:public_id>/runs/<uuid:run_id>/retry/", views.run_retry, name="run_retry"),
]
