from __future__ import annotations

from uuid import UUID

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import ApiToken, Membership, User, Workspace, token_digest
from solodesk.core.models import Job
from solodesk.core.prepared import PreparedQuery


def workspace_user_is_owner(*, workspace: Workspace, user: User) -> bool:
    """Whether the user owns the workspace (settings, reminders, webhooks are the owner's).
    A query: bearer-token API calls do not load the membership."""
    return Membership.objects.filter(
        workspace=workspace, user=user, role=Membership.Role.OWNER
    ).exists()


def workspace_owner_get(*, workspace_id: int) -> User | None:
    """The workspace's owner (the first, should there be several): who background work
    with no person behind it runs as, and who is told when it needs attention."""
    membership = (
        Membership.objects.select_related("user")
        .filter(workspace_id=workspace_id, role=Membership.Role.OWNER)
        .order_by("created_at", "pk")
        .first()
    )
    return membership.user if membership is not None else None


_CURRENT_MEMBERSHIP: PreparedQuery[Membership] = PreparedQuery(
    lambda user_id: (
        Membership.objects.select_related("workspace")
        .filter(user_id=user_id)
        .order_by("created_at", "pk")[:1]
    ),
    "user_id",
)


def membership_get_current(*, user: User) -> Membership | None:
    """The workspace a logged-in user works in (the first they joined). Every page asks:
    the query is compiled once per process (`core.prepared`)."""
    return _CURRENT_MEMBERSHIP.first(user_id=user.pk)


def api_token_authenticate(*, raw_token: str) -> ApiToken | None:
    """One query: the active token with its workspace and user. The running timer is not
    joined here: the six-table join cost ~2 ms of query compilation on every API call
    (bench/peer_timetagger.py), and only the timer endpoints need it (`timer_get` loads it
    with one query when the session backend did not)."""
    if not raw_token:
        return None
    return _ACTIVE_TOKEN.first(digest=token_digest(raw_token))


# Every API call runs it: compiled once per process (`core.prepared`).
_ACTIVE_TOKEN: PreparedQuery[ApiToken] = PreparedQuery(
    lambda digest: (
        ApiToken.objects.select_related("workspace", "user")
        .filter(
            digest=digest,
            revoked_at__isnull=True,
            user__is_active=True,
            # A token dies with its user's membership of the workspace.
            workspace__memberships__user=F("user"),
        )
        .order_by("pk")[:1]
    ),
    digest=str,
)


def api_token_list(*, workspace: Workspace, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(workspace=workspace, user=user).order_by("-created_at")


def api_token_get(*, workspace: Workspace, user: User, public_id: UUID | str) -> ApiToken:
    return get_object_or_404(ApiToken, workspace=workspace, user=user, public_id=public_id)


def time_totals_recount_job_get(*, workspace: Workspace) -> Job | None:
    """The workspace's latest time-totals recount (decision 0007) while it concerns the
    reader: queued or running (the totals are still the old time zone's), or failed (they
    stay so until recounted). A succeeded one is history: None. One query; the latest
    counts alone, because a recount always counts in the zone committed last."""
    job = (
        Job.objects.filter(workspace=workspace, kind=Job.Kind.TIME_TOTALS_RECOUNT)
        .order_by("-created_at", "-pk")
        .first()
    )
    if job is None or job.status == Job.Status.SUCCEEDED:
        return None
    return job
