"""Two sweepers, or two runners, at the same moment: still one invoice per period
(PostgreSQL: SQLite serialises all writers and has no row locks)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import connection

from solodesk.invoicing.models import Invoice
from solodesk.recurring import services
from solodesk.recurring.models import RecurringRun
from solodesk.recurring.tests.conftest import make_profile
from solodesk.tests.factories import ClientFactory

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises all writers and has no row locks; concurrency is only "
    "meaningful on PostgreSQL.",
)
NOW = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)


def _in_threads(function, count: int) -> list:
    barrier = threading.Barrier(count)

    def call(_):
        try:
            with time_machine.travel(NOW, tick=False):
                barrier.wait()
                return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_sweepers_running_at_the_same_moment_create_each_period_once(owner, run_broker):
    client = ClientFactory(workspace=owner.workspace)
    for n in range(10):
        make_profile(owner, client=client, name=f"Retainer {n}")

    _in_threads(services.recurring_runs_schedule, 4)

    # 10 profiles × January…June, each period once.
    assert RecurringRun.objects.count() == 60
    assert run_broker.call_count == 60


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_runners_racing_on_the_same_runs_create_one_invoice_per_period(owner, run_broker):
    make_profile(owner)
    with time_machine.travel(NOW, tick=False):
        services.recurring_runs_schedule()
    run_ids = list(RecurringRun.objects.order_by("period_start").values_list("pk", flat=True))

    def run_everything():
        for run_id in run_ids:
            services.recurring_run_execute(run_id=run_id)

    _in_threads(run_everything, 4)

    assert Invoice.objects.count() == 6
    assert set(RecurringRun.objects.values_list("status", flat=True)) == {"succeeded"}
    assert (
        RecurringRun.objects.filter(invoice__isnull=False).values("invoice").distinct().count() == 6
    )
