from django.urls import path

from solodesk.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
]
