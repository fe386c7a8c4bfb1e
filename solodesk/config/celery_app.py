"""Celery, wired the cookiecutter-django way and configured only from Django settings.

The embedded default uses kombu's filesystem transport under ./var/broker: durable files
that any process on the machine can read, so `solodesk run` needs no broker server.
Deployments point CELERY_BROKER_URL at Redis or RabbitMQ.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solodesk.config.settings.production")

app = Celery("solodesk")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _configure_filesystem_broker() -> None:
    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    queue_dir = settings.CELERY_BROKER_DIR / "queue"
    processed_dir = settings.CELERY_BROKER_DIR / "processed"
    control_dir = settings.CELERY_BROKER_DIR / "control"
    for folder in (queue_dir, processed_dir, control_dir):
        folder.mkdir(parents=True, exist_ok=True)
    app.conf.broker_transport_options = {
        "data_folder_in": str(queue_dir),
        "data_folder_out": str(queue_dir),
        "processed_folder": str(processed_dir),
        "control_folder": str(control_dir),
        "store_processed": False,
    }


_configure_filesystem_broker()
app.conf.beat_schedule = {
    "requeue-stale-jobs": {
        "task": "solodesk.core.tasks.jobs_requeue_stale_task",
        "schedule": 60.0,
    },
}
app.autodiscover_tasks()
