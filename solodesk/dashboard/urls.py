from django.urls import path

from solodesk.dashboard import views

# No app_name: the page after login keeps the project-wide name `home` (LOGIN_REDIRECT_URL,
# the brand link in the header, and every `reverse("home")`).
urlpatterns = [
    path("", views.home, name="home"),
]
