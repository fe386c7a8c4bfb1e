from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from solodesk.accounts.models import User
from solodesk.core.prepared import PreparedQuery

# Compiled once per process: every request with a session runs it (`core.prepared`).
_USER_WITH_TIMER: PreparedQuery[User] = PreparedQuery(
    lambda user_id: User.objects.select_related("running_timer__project__client").filter(
        pk=user_id
    ),
    "user_id",
)


class AuthenticationBackend(AllauthBackend):
    """allauth's backend, loading the user's running timer in the same query: the header of
    every page shows the timer, and the timer poll then costs only the session and this."""

    def get_user(self, user_id):
        try:
            user = _USER_WITH_TIMER.first(user_id=int(user_id))
        except (TypeError, ValueError):
            return None
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None
