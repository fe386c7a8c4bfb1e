"""Which workspace a request works in. Resolved on first use and cached on the request, so
requests that never need it (the timer poll) pay no query for it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from solodesk.accounts.models import Membership, User, Workspace
from solodesk.accounts.selectors import membership_get_current

_CACHE_ATTR = "_solodesk_membership"


def current_membership(request: HttpRequest) -> Membership | None:
    if not hasattr(request, _CACHE_ATTR):
        user = request.user
        membership = membership_get_current(user=user) if user.is_authenticated else None  # type: ignore[arg-type]
        setattr(request, _CACHE_ATTR, membership)
    return getattr(request, _CACHE_ATTR)


def current_workspace(request: HttpRequest) -> Workspace | None:
    membership = current_membership(request)
    return membership.workspace if membership else None


def workspace_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Log-in required, and `request.workspace` / `request.membership` set to real objects."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        membership = current_membership(request)
        if membership is None:
            raise Http404("You are not a member of any workspace.")
        request.membership = membership  # type: ignore[attr-defined]
        request.workspace = membership.workspace  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def request_workspace(request: HttpRequest) -> Workspace:
    """The workspace `workspace_required` (or the API's authentication) put on the request."""
    return request.workspace  # type: ignore[attr-defined,no-any-return]


def request_user(request: HttpRequest) -> User:
    """The logged-in user, typed: only for views behind `workspace_required` or API auth."""
    return cast(User, request.user)


def workspace_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """`workspace_required`, and the view (and its template) run in the workspace's time
    zone, so dates typed and shown are the workspace's local dates."""

    @workspace_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with timezone.override(request_workspace(request).tzinfo):
            return view(request, *args, **kwargs)

    return wrapper
