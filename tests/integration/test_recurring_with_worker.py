"""Recurring runs through a real broker and real worker processes, one of them SIGKILLed
midway: every period still ends with exactly one invoice."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from solodesk.invoicing.models import Invoice
from solodesk.recurring.models import RecurringRun
from solodesk.recurring.services import (
    recurring_profile_create,
    recurring_runs_requeue_stale,
    recurring_runs_schedule,
)
from solodesk.tests.factories import ClientFactory, MembershipFactory, UserFactory, WorkspaceFactory
from tests.integration.conftest import purge_broker
from tests.processes import ChildProcess, start_worker, wait_until

pytestmark = pytest.mark.integration
RUNS = 20


def _status_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in RecurringRun.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_every_recurring_run_survives_a_killed_worker_with_exactly_one_invoice(start_child):
    workspace = WorkspaceFactory(name="Owner Studio")
    user = UserFactory(email="owner@example.com")
    MembershipFactory(workspace=workspace, user=user)
    client = ClientFactory(workspace=workspace, name="Acme Ltd")
    today = timezone.localdate(timezone=workspace.tzinfo)
    profile = recurring_profile_create(
        workspace=workspace,
        user=user,
        client=client,
        name="Weekly support",
        frequency="weekly",
        start_date=today - dt.timedelta(weeks=RUNS - 1),
        lines=[
            {
                "description": "Support",
                "quantity": Decimal("1"),
                "unit": "pieces",
                "unit_price": Decimal("250.00"),
            }
        ],
    )
    purge_broker()
    first = start_child(start_worker, name="worker-1")
    assert isinstance(first, ChildProcess)

    # The scheduler was down for 20 weeks: one sweep inserts every missed period and
    # hands one task per run to the broker after commit.
    started = time.monotonic()
    assert recurring_runs_schedule() == 1
    assert RecurringRun.objects.count() == RUNS

    wait_until(
        lambda: _status_counts().get("succeeded", 0) >= 3,
        timeout=30,
        message="the first worker created no invoices",
    )
    first.kill()
    at_kill = _status_counts()

    # What minutes of silence would make of it: the runs the dead worker held (running)
    # and the ones whose messages it had taken (queued) look stale to the sweeper.
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    RecurringRun.objects.exclude(status="succeeded").update(
        updated_at=long_ago, enqueued_at=long_ago
    )
    second = start_child(start_worker, name="worker-2")
    assert isinstance(second, ChildProcess)
    recurring_runs_requeue_stale(older_than=dt.timedelta(minutes=5))

    wait_until(
        lambda: _status_counts() == {"succeeded": RUNS},
        timeout=45,
        message=f"runs did not all succeed: {_status_counts()}",
    )
    elapsed = time.monotonic() - started

    runs = list(RecurringRun.objects.order_by("period_start").select_related("invoice"))
    assert len({run.invoice_id for run in runs}) == RUNS
    assert Invoice.objects.count() == RUNS
    assert all(run.invoice.client_id == client.pk for run in runs)  # type: ignore[union-attr]
    starts = [run.period_start for run in runs]
    assert starts == [profile.start_date + dt.timedelta(weeks=n) for n in range(RUNS)]
    for run in runs:
        description = run.invoice.lines.get().description  # type: ignore[union-attr]
        assert description.endswith(
            f"{run.period_start.isoformat()} – {run.period_end.isoformat()}"
        )
    print(f"killed at {at_kill}; {RUNS} runs finished in {elapsed:.1f} s")
