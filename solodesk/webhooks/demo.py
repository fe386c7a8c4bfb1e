"""Demo data for webhooks: one example endpoint, disabled, so the pages have something to
show and the demo never POSTs anywhere by itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from solodesk.webhooks.models import EVENT_TYPE_NAMES, WebhookEndpoint
from solodesk.webhooks.services import webhook_endpoint_create

if TYPE_CHECKING:
    from solodesk.accounts.models import User, Workspace

DEMO_URL = "http://127.0.0.1:9999/solodesk-webhooks"


def demo_webhooks(workspace: Workspace, user: User) -> WebhookEndpoint:
    """Idempotent: the example endpoint is made once per workspace."""
    existing = WebhookEndpoint.objects.filter(workspace=workspace, url=DEMO_URL).first()
    if existing is not None:
        return existing
    endpoint = webhook_endpoint_create(
        workspace=workspace,
        user=user,
        url=DEMO_URL,
        events=EVENT_TYPE_NAMES,
        description="Example: point it at your receiver, then re-enable it.",
    )
    # Disabled from the start and marked as told: nobody needs a notice about a demo.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False,
        disabled_at=endpoint.created_at,
        disabled_reason="Demo endpoint: nothing listens at this address.",
        owner_notified_at=endpoint.created_at,
    )
    endpoint.refresh_from_db()
    return endpoint
