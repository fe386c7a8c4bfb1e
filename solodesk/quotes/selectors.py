"""Reads for quotes, scoped to a workspace (another workspace's quote is a 404), with the
joins and prefetches each page needs so no caller causes an N+1."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from solodesk.accounts.models import Membership, User, Workspace
from solodesk.quotes.models import Quote, QuoteActivity


def _today(workspace: Workspace) -> dt.date:
    return timezone.localdate(timezone=workspace.tzinfo)


def quote_list(
    *,
    workspace: Workspace,
    status: str | None = None,
    client_public_id: UUID | str | None = None,
) -> QuerySet[Quote]:
    """Newest first, with the client. `status` may be "expired" (sent, valid-until day
    passed); "sent" then means sent and still open."""
    quotes = Quote.objects.filter(workspace=workspace).select_related("client")
    if status == Quote.EXPIRED:
        quotes = quotes.filter(status=Quote.Status.SENT, valid_until__lt=_today(workspace))
    elif status == Quote.Status.SENT:
        quotes = quotes.filter(status=Quote.Status.SENT, valid_until__gte=_today(workspace))
    elif status:
        quotes = quotes.filter(status=status)
    if client_public_id:
        quotes = quotes.filter(client__public_id=client_public_id)
    return quotes.order_by("-created_at", "-pk")


def quote_get(*, workspace: Workspace, public_id: UUID | str) -> Quote:
    """The quote with its lines, activity (with actors) and what it converted into."""
    return get_object_or_404(
        Quote.objects.select_related(
            "client", "converted_invoice", "converted_project"
        ).prefetch_related(
            "lines",
            Prefetch("activities", queryset=QuoteActivity.objects.select_related("actor")),
        ),
        workspace=workspace,
        public_id=public_id,
    )


def quote_get_for_portal(*, token: str) -> Quote:
    """What the client's link opens: a sent (or answered) quote, with its lines. A wrong
    token, or a draft, is a plain 404."""
    if not token or len(token) > 64:
        raise Http404("No such quote.")
    return get_object_or_404(
        Quote.objects.exclude(status=Quote.Status.DRAFT)
        .select_related("workspace", "client")
        .prefetch_related("lines"),
        portal_token=token,
    )


def quote_portal_visitor_is_member(*, quote: Quote, user: User) -> bool:
    """Whether a logged-in visitor of a client link works in the quote's workspace (the
    freelancer checking their own link): their visit is not the client's "viewed"."""
    return Membership.objects.filter(workspace_id=quote.workspace_id, user=user).exists()
