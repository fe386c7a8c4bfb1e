"""API authentication: a bearer token, or the browser's session (for the interactive docs
and for job downloads from the web UI). Either way `request.workspace` is set."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from solodesk.accounts.selectors import api_token_authenticate
from solodesk.accounts.services import api_token_touch
from solodesk.accounts.workspace import current_membership


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = api_token_authenticate(raw_token=token)
        if api_token is None:
            return None
        api_token_touch(token=api_token)
        request.user = api_token.user
        request.workspace = api_token.workspace  # type: ignore[attr-defined]
        return api_token


class SessionAuth(NinjaSessionAuth):
    """The logged-in browser session; ninja checks CSRF on unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not request.user.is_authenticated:
            return None
        membership = current_membership(request)
        if membership is None:
            return None
        request.workspace = membership.workspace  # type: ignore[attr-defined]
        return request.user


API_AUTH = [BearerTokenAuth(), SessionAuth()]
