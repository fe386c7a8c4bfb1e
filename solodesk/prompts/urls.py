from django.urls import path

from solodesk.prompts import views

app_name = "prompts"
urlpatterns = [
    path("", views.prompt_list, name="list"),
    path("report/", views.prompt_report, name="report"),
    path("timer/stop/", views.timer_stop, name="timer_stop"),
    path("go/<str:key>/", views.prompt_go, name="go"),
    path("<str:key>/dismiss/", views.prompt_dismiss, name="dismiss"),
    path("<str:key>/snooze/", views.prompt_snooze, name="snooze"),
]
