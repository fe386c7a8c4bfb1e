"""Celery entry points for webhooks: thin, id in, one call out.

Retries are not Celery retries: a failed attempt writes `next_attempt_at` on the delivery
row and the sweeper hands it to the broker again when it is due, so the schedule survives
a broker restart and a delayed message never outlives a visibility timeout.
"""

from __future__ import annotations

from celery import shared_task

from solodesk.webhooks.services import (
    webhook_deliveries_sweep,
    webhook_delivery_attempt,
    webhook_endpoint_disabled_notify,
)


@shared_task(name="solodesk.webhooks.tasks.webhook_delivery_task")
def webhook_delivery_task(delivery_id: int) -> None:
    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="solodesk.webhooks.tasks.webhook_deliveries_sweep_task")
def webhook_deliveries_sweep_task() -> dict[str, int]:
    return webhook_deliveries_sweep()


@shared_task(name="solodesk.webhooks.tasks.webhook_endpoint_disabled_notify_task")
def webhook_endpoint_disabled_notify_task(endpoint_id: int) -> None:
    webhook_endpoint_disabled_notify(endpoint_id=endpoint_id)
