from __future__ import annotations

from uuid import UUID

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import ApiToken, Membership, User, Workspace, token_digest


def membership_get_current(*, user: User) -> Membership | None:
    """The workspace a logged-in user works in (the first they joined)."""
    return (
        Membership.objects.select_related("workspace")
        .filter(user=user)
        .order_by("created_at", "pk")
        .first()
    )


def api_token_authenticate(*, raw_token: str) -> ApiToken | None:
    """One query: the active token with its workspace, user and running timer."""
    if not raw_token:
        return None
    return (
        ApiToken.objects.select_related("workspace", "user__running_timer__project__client")
        .filter(
            digest=token_digest(raw_token),
            revoked_at__isnull=True,
            user__is_active=True,
            # A token dies with its user's membership of the workspace.
            workspace__memberships__user=F("user"),
        )
        .first()
    )


def api_token_list(*, workspace: Workspace, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(workspace=workspace, user=user).order_by("-created_at")


def api_token_get(*, workspace: Workspace, user: User, public_id: UUID | str) -> ApiToken:
    return get_object_or_404(ApiToken, workspace=workspace, user=user, public_id=public_id)
