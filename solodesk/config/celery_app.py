"""Celery, wired the cookiecutter-django way and configured only from Django settings.

The embedded default uses kombu's filesystem transport under ./var/broker: durable files
that any process on the machine can read, so `solodesk run` needs no broker server.
Deployments point CELERY_BROKER_URL at Redis or RabbitMQ.
"""

from __future__ import annotations

import logging
import os

from celery import Celery, bootsteps
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solodesk.config.settings.production")

logger = logging.getLogger(__name__)

app = Celery("solodesk")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _configure_filesystem_broker() -> None:
    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    # The transport ignores the host, but kombu logs "No hostname was supplied" each time
    # it copies a connection without one (every worker, beat and publishing process).
    app.conf.broker_url = "filesystem://localhost/"
    queue_dir = settings.CELERY_BROKER_DIR / "queue"
    processed_dir = settings.CELERY_BROKER_DIR / "processed"
    control_dir = settings.CELERY_BROKER_DIR / "control"
    for folder in (queue_dir, processed_dir, control_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            # A web process still starts: each publish fails (fast), is logged, and the
            # sweeper hands the work over once the folder is usable again.
            logger.exception("The broker folder %s is not usable", folder)
    app.conf.broker_transport_options = {
        "data_folder_in": str(queue_dir),
        "data_folder_out": str(queue_dir),
        "processed_folder": str(processed_dir),
        "control_folder": str(control_dir),
        "store_processed": False,
        # The worker looks for new files this often. kombu's default (1 s) also paces a
        # busy queue: a worker takes its prefetch (one message per process), and fetches
        # again only at the next tick, so 2 processes ran 2 tasks/s. A listing of the
        # queue folder every 0.1 s costs little.
        "polling_interval": settings.BROKER_POLLING_INTERVAL_SECONDS,
    }


def _configure_redis_broker() -> None:
    """Redis: messages a dead worker held come back after the visibility timeout, and
    every socket operation has a deadline so a hung Redis fails a publish instead of
    hanging the request (docs/architecture.md, "Durability")."""
    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return
    longest_wait = max(
        settings.CELERY_TASK_TIME_LIMIT, *getattr(settings, "INVOICE_EMAIL_RETRY_DELAYS", [0])
    )
    if longest_wait >= settings.BROKER_VISIBILITY_TIMEOUT_SECONDS:
        raise ImproperlyConfigured(
            "BROKER_VISIBILITY_TIMEOUT_SECONDS must be longer than the hard time limit and "
            f"the longest retry delay ({longest_wait} s), or running tasks are delivered twice."
        )
    app.conf.broker_transport_options = redis_transport_options()


def redis_transport_options() -> dict[str, float]:
    from django.conf import settings

    return {
        "visibility_timeout": settings.BROKER_VISIBILITY_TIMEOUT_SECONDS,
        "socket_timeout": settings.BROKER_SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": settings.BROKER_SOCKET_TIMEOUT_SECONDS,
    }


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Every worker writes the "worker" heartbeat when it starts and then every
    WORKER_HEARTBEAT_SECONDS from its main process's timer, so /api/v1/health can tell
    that at least one worker is alive even while all its pool processes are busy."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent: object, **kwargs: object) -> None:
        super().__init__(parent, **kwargs)
        self.tref: object | None = None

    def start(self, parent: object) -> None:
        from django.conf import settings

        _worker_heartbeat()
        self.tref = parent.timer.call_repeatedly(  # type: ignore[attr-defined]
            settings.WORKER_HEARTBEAT_SECONDS, _worker_heartbeat
        )

    def stop(self, parent: object) -> None:
        if self.tref is not None:
            self.tref.cancel()  # type: ignore[attr-defined]
            self.tref = None


def _worker_heartbeat() -> None:
    from django.db import connection

    from solodesk.core.services import heartbeat_touch

    try:
        heartbeat_touch(name="worker")
    except Exception:
        logger.exception("Could not write the worker heartbeat")
    finally:
        # The main process forks pool children: it must not hold a connection open.
        connection.close()


_configure_filesystem_broker()
_configure_redis_broker()
app.steps["worker"].add(WorkerHeartbeat)
app.conf.beat_schedule = {
    "requeue-stale-jobs": {
        "task": "solodesk.core.tasks.jobs_requeue_stale_task",
        "schedule": 60.0,
    },
    # Invoice deliveries left "sending" by a job that died or finished without them.
    "invoice-deliveries-sweep": {
        "task": "solodesk.invoicing.tasks.invoice_deliveries_sweep_task",
        "schedule": 300.0,
    },
    # Quote e-mails whose message never reached the broker (no Job row: the quote is it).
    "quote-emails-sweep": {
        "task": "solodesk.quotes.tasks.quote_emails_requeue_stale_task",
        "schedule": 300.0,
    },
    "scheduler-heartbeat": {
        "task": "solodesk.core.tasks.scheduler_heartbeat_task",
        "schedule": 60.0,
    },
    "reminders-sweep": {
        "task": "solodesk.reminders.tasks.reminders_sweep_task",
        "schedule": 300.0,
    },
    "recurring-sweep": {
        "task": "solodesk.recurring.tasks.recurring_sweep_task",
        "schedule": 300.0,
    },
    "webhooks-sweep": {
        "task": "solodesk.webhooks.tasks.webhook_deliveries_sweep_task",
        "schedule": 60.0,
    },
}
app.autodiscover_tasks()
