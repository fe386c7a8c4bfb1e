from django.urls import path

from solodesk.timetracking import views

app_name = "timetracking"
urlpatterns = [
    path("", views.entry_list, name="entry_list"),
    path("week/", views.week, name="week"),
    path("new/", views.entry_new, name="entry_new"),
    path("export/", views.export, name="export"),
    path("<uuid:public_id>/edit/", views.entry_edit, name="entry_edit"),
    path("<uuid:public_id>/delete/", views.entry_delete, name="entry_delete"),
    path("timer/", views.timer_poll, name="timer_poll"),
    path("timer/start/", views.timer_start, name="timer_start"),
    path("timer/stop/", views.timer_stop, name="timer_stop"),
    path("timer/discard/", views.timer_discard, name="timer_discard"),
]
