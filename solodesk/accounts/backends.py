from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model


class AuthenticationBackend(AllauthBackend):
    """allauth's backend, loading the user's running timer in the same query: the header of
    every page shows the timer, and the timer poll then costs only the session and this."""

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("running_timer__project__client").get(
                pk=user_id
            )
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
