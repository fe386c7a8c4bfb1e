"""The recurring services: exactly one invoice per (profile, period), catch-up in order,
end date and count, pause semantics, issue-and-send, billing the period's time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
import time_machine

from solodesk.core.exceptions import ApplicationError
from solodesk.core.models import Job
from solodesk.invoicing.models import Invoice, InvoiceActivity, InvoiceDelivery
from solodesk.invoicing.tests.factories import make_entry, make_project
from solodesk.recurring import services, tasks
from solodesk.recurring.models import RecurringActivity, RecurringProfile, RecurringRun
from solodesk.recurring.tests.conftest import make_profile, retainer_line
from solodesk.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
RUN_TASK = "solodesk.recurring.tasks.recurring_run_task"


def at(year: int, month: int, day: int, hour: int = 12):
    return time_machine.travel(dt.datetime(year, month, day, hour, tzinfo=dt.UTC), tick=False)


def run_all() -> None:
    for run_id in RecurringRun.objects.order_by("period_start").values_list("pk", flat=True):
        tasks.recurring_run_task(run_id)


def test_the_sweeper_creates_one_run_per_due_period_and_enqueues_after_commit(
    owner, run_broker, django_capture_on_commit_callbacks
):
    profile = make_profile(owner)
    with at(2026, 3, 10), django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.recurring_runs_schedule() == 1
        assert run_broker.call_count == 0
    assert len(callbacks) == 1
    runs = list(RecurringRun.objects.order_by("period_start"))
    assert [(r.period_start, r.period_end, r.status) for r in runs] == [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31), "queued"),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28), "queued"),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31), "queued"),
    ]
    assert [c.kwargs["args"] for c in run_broker.call_args_list] == [[r.pk] for r in runs]
    assert all(r.enqueued_at is not None for r in RecurringRun.objects.all())
    profile.refresh_from_db()
    assert (profile.next_period_index, profile.next_period_start) == (3, dt.date(2026, 4, 1))


def test_sweeping_twice_creates_each_periods_invoice_once(owner, run_broker):
    make_profile(owner)
    with at(2026, 3, 10):
        services.recurring_runs_schedule()
        services.recurring_runs_schedule()
        tasks.recurring_sweep_task()
        run_all()
        run_all()
    assert RecurringRun.objects.count() == 3
    assert Invoice.objects.count() == 3
    assert set(RecurringRun.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_run_task_delivered_twice_creates_one_invoice(owner, run_broker):
    make_profile(owner)
    with at(2026, 1, 5):
        services.recurring_runs_schedule()
        run = RecurringRun.objects.get()
        tasks.recurring_run_task(run.pk)
        tasks.recurring_run_task(run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
    assert Invoice.objects.get() == run.invoice


def test_catch_up_after_downtime_creates_every_missed_period_in_order_with_its_own_dates(
    owner, run_broker
):
    profile = make_profile(owner, notes="Thanks!")
    with at(2026, 1, 2):
        services.recurring_runs_schedule()
        run_all()
    # The scheduler was down from January to mid-May.
    with at(2026, 5, 15):
        services.recurring_runs_schedule()
        run_all()
    invoices = list(Invoice.objects.order_by("created_at", "pk").prefetch_related("lines"))
    assert [invoice.lines.all()[0].description for invoice in invoices] == [
        "Retainer — January 2026",
        "Retainer — February 2026",
        "Retainer — March 2026",
        "Retainer — April 2026",
        "Retainer — May 2026",
    ]
    assert invoices[2].notes == "Thanks!\n\nPeriod: 2026-03-01 – 2026-03-31."
    assert [i.total for i in invoices] == [Decimal("1210.00")] * 5
    assert all(i.status == "draft" and i.issue_date is None for i in invoices)
    activity = InvoiceActivity.objects.get(invoice=invoices[1], action="recurring_created")
    assert activity.message == (
        "Created by the recurring profile “Retainer” for February 2026 (2026-02-01 – 2026-02-28)."
    )
    logged = list(
        RecurringActivity.objects.filter(profile=profile, action="run_succeeded")
        .order_by("created_at", "pk")
        .values_list("message", flat=True)
    )
    assert logged[1] == "February 2026: draft invoice created."
    assert len(logged) == 5


def test_the_occurrence_count_and_the_end_date_end_the_schedule(owner, run_broker):
    counted = make_profile(owner, name="Three months", occurrences=3)
    ended = make_profile(
        owner, client=counted.client, name="Until March", end_date=dt.date(2026, 3, 15)
    )
    with at(2026, 12, 1):
        services.recurring_runs_schedule()
        run_all()
    assert counted.runs.count() == 3
    assert ended.runs.count() == 3
    counted.refresh_from_db()
    assert counted.next_period_start is None and counted.is_finished
    with at(2027, 6, 1):
        assert services.recurring_runs_schedule() == 0
    assert RecurringRun.objects.count() == 6


def test_a_paused_profile_creates_nothing_and_skips_the_paused_periods_when_resumed(
    owner, run_broker
):
    profile = make_profile(owner)
    with at(2026, 1, 10):
        services.recurring_runs_schedule()
        services.recurring_profile_pause(profile=profile, user=owner.user)
    with at(2026, 4, 10):
        assert services.recurring_runs_schedule() == 0
        resumed = services.recurring_profile_resume(profile=profile, user=owner.user)
        assert resumed.next_period_start == dt.date(2026, 5, 1)
        services.recurring_runs_schedule()
    assert list(RecurringRun.objects.values_list("period_start", flat=True)) == [
        dt.date(2026, 1, 1)
    ]
    message = RecurringActivity.objects.get(action="resumed").message
    assert message == (
        "Resumed. 3 periods skipped while paused (2026-02-01 – 2026-04-30). "
        "Next invoice on 2026-05-01."
    )
    with pytest.raises(ApplicationError):
        services.recurring_profile_resume(profile=profile, user=owner.user)


def test_issue_and_send_issues_a_numbered_invoice_and_starts_the_send_job(
    owner, run_broker, django_capture_on_commit_callbacks
):
    make_profile(owner, action=RecurringProfile.Action.ISSUE_AND_SEND)
    with (
        at(2026, 2, 1, hour=7),
        mock.patch("solodesk.core.services._send_to_broker") as job_broker,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.recurring_runs_schedule()
        run_all()
    invoices = list(Invoice.objects.order_by("number"))
    assert [(i.number, i.status, i.issue_date) for i in invoices] == [
        ("2026-0001", "issued", dt.date(2026, 2, 1)),
        ("2026-0002", "issued", dt.date(2026, 2, 1)),
    ]
    deliveries = list(InvoiceDelivery.objects.select_related("job"))
    assert len(deliveries) == 2
    assert {d.job.kind for d in deliveries} == {Job.Kind.INVOICE_SEND}
    assert job_broker.call_count == 2
    assert (
        RecurringActivity.objects.filter(action="run_succeeded")
        .first()
        .message.endswith("issued and sent to " + invoices[0].client.email + ".")
    )


def test_a_run_that_cannot_send_fails_with_a_message_and_creates_nothing(owner, run_broker):
    client = ClientFactory(workspace=owner.workspace, email="")
    make_profile(owner, client=client, action=RecurringProfile.Action.ISSUE_AND_SEND)
    with at(2026, 1, 2):
        services.recurring_runs_schedule()
        run_all()
    run = RecurringRun.objects.get()
    assert run.status == "failed"
    assert "no e-mail address" in run.error
    assert not Invoice.objects.exists()
    assert RecurringActivity.objects.filter(action="run_failed").count() == 1
    client.email = "pay@acme.test"
    client.save()
    with at(2026, 1, 2):
        services.recurring_run_retry(run=run, user=owner.user)
        run_all()
    run.refresh_from_db()
    assert run.status == "succeeded" and run.invoice.number == "2026-0001"


def test_bill_time_bills_the_unbilled_time_of_the_period_that_just_ended(owner, run_broker):
    client = ClientFactory(workspace=owner.workspace)
    project = make_project(client, hourly_rate=Decimal("100.00"))
    other = make_project(client, hourly_rate=Decimal("50.00"))
    tz = owner.workspace.tzinfo
    in_february = make_entry(
        project=project, user=owner.user, start=dt.datetime(2026, 2, 10, 9, tzinfo=tz), minutes=90
    )
    make_entry(  # another project: not chosen
        project=other, user=owner.user, start=dt.datetime(2026, 2, 11, 9, tzinfo=tz), minutes=60
    )
    in_march = make_entry(
        project=project, user=owner.user, start=dt.datetime(2026, 3, 2, 9, tzinfo=tz), minutes=60
    )
    make_profile(
        owner,
        client=client,
        start_date=dt.date(2026, 3, 1),
        bill_time=True,
        projects=[project],
    )
    with at(2026, 3, 1, hour=10):
        services.recurring_runs_schedule()
        run_all()
    invoice = Invoice.objects.get()
    lines = list(invoice.lines.order_by("position"))
    assert [(line.description, line.quantity) for line in lines] == [
        ("Retainer — March 2026", Decimal("1.000")),
        (f"{project.name} — 2026-02-10", Decimal("1.500")),
    ]
    in_february.refresh_from_db()
    in_march.refresh_from_db()
    assert in_february.invoice_line == lines[1]
    assert in_march.invoice_line is None
    assert invoice.total == Decimal("1210.00") + Decimal("150.00")


def test_a_time_only_profile_without_time_succeeds_without_an_invoice(owner, run_broker):
    make_profile(owner, lines=[], bill_time=True)
    with at(2026, 1, 2):
        services.recurring_runs_schedule()
        run_all()
    run = RecurringRun.objects.get()
    assert (run.status, run.invoice) == ("succeeded", None)
    assert RecurringActivity.objects.filter(action="run_succeeded").get().message == (
        "January 2026: nothing to bill (no unbilled time)."
    )


def test_a_stale_running_run_is_reclaimed_and_a_fresh_one_is_not(owner, run_broker):
    make_profile(owner)
    with at(2026, 1, 2):
        services.recurring_runs_schedule()
        run = RecurringRun.objects.get()
        assert services.recurring_run_claim(run_id=run.pk)
        # A live runner has it: a duplicate delivery does nothing.
        tasks.recurring_run_task(run.pk)
        assert not Invoice.objects.exists()
    with at(2026, 1, 2, hour=13):
        run_broker.reset_mock()
        assert services.recurring_runs_requeue_stale(older_than=dt.timedelta(minutes=5)) == 1
        assert run_broker.call_args.kwargs["args"] == [run.pk]
        tasks.recurring_run_task(run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 2)
    assert Invoice.objects.count() == 1


def test_a_broker_outage_leaves_the_runs_queued_for_the_next_sweep(owner, run_broker):
    make_profile(owner)
    run_broker.side_effect = OSError("Connection refused")
    with at(2026, 1, 2):
        services.recurring_runs_schedule()
    run = RecurringRun.objects.get()
    assert (run.status, run.enqueued_at) == ("queued", None)
    run_broker.side_effect = None
    with at(2026, 1, 2, hour=13):
        assert services.recurring_runs_requeue_stale(older_than=dt.timedelta(minutes=5)) == 1


def test_profile_validation_names_the_field(owner):
    client = ClientFactory(workspace=owner.workspace, currency="EUR")
    cases = [
        ({"name": " "}, "name"),
        ({"lines": [], "bill_time": False}, "lines"),
        ({"end_date": dt.date(2025, 1, 1)}, "end_date"),
        ({"day_of_month": 30}, "day_of_month"),
        ({"currency": "USD"}, "currency"),
        ({"lines": [retainer_line(unit_price="1.234")]}, "lines"),
        ({"frequency": "daily"}, "frequency"),
    ]
    for fields, field in cases:
        with pytest.raises(ApplicationError) as error:
            make_profile(owner, client=client, **fields)
        assert field in error.value.errors, fields
    assert not RecurringProfile.objects.exists()


def test_changing_the_schedule_never_bills_a_period_twice(owner, run_broker):
    profile = make_profile(owner)
    with at(2026, 2, 10):
        services.recurring_runs_schedule()
        updated = services.recurring_profile_update(
            profile=profile, user=owner.user, day_of_month=15
        )
    assert updated.next_period_start == dt.date(2026, 2, 15)
    with at(2026, 2, 15):
        services.recurring_runs_schedule()
    assert list(
        RecurringRun.objects.order_by("period_start").values_list("period_start", flat=True)
    ) == [
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 15),
    ]


# Up to 60 runs: beyond that SQLite's limit on query parameters splits the INSERT in chunks.
@pytest.mark.parametrize("count", [3, 10])
def test_a_sweep_batch_runs_a_fixed_number_of_queries(
    owner, run_broker, count, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client = ClientFactory(workspace=owner.workspace)
    for n in range(count):
        make_profile(owner, client=client, name=f"P{n}")
    # Queries: savepoint, due profiles (locked, + workspace), insert runs, update profiles,
    # run ids to send, release savepoint (then, after commit, one UPDATE marks them sent).
    with (
        at(2026, 6, 10),
        django_capture_on_commit_callbacks(execute=True),
        django_assert_num_queries(6),
    ):
        assert services.recurring_runs_schedule() == count
    assert not RecurringRun.objects.filter(enqueued_at=None).exists()
    assert RecurringRun.objects.count() == 6 * count
