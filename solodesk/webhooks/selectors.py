"""Reads of webhook endpoints and their delivery log, always scoped to the workspace."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import Workspace
from solodesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, workspace: Workspace) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(workspace=workspace).order_by("created_at", "pk")


def webhook_endpoint_get(*, workspace: Workspace, public_id: UUID | str) -> WebhookEndpoint:
    """Another workspace's endpoint is a 404 like one that does not exist."""
    return get_object_or_404(WebhookEndpoint, workspace=workspace, public_id=public_id)


def webhook_attempt_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookAttempt]:
    """The endpoint's delivery log, newest first, each attempt with its event (joined)."""
    return (
        WebhookAttempt.objects.filter(endpoint=endpoint)
        .select_related("delivery__event")
        .order_by("-created_at", "-pk")
    )


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, each with its event (joined)."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-pk")
    )
