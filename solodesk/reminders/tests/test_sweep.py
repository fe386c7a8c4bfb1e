"""The dunning guarantees: each stage once ever, a double sweep or a double task sends one
e-mail, catch-up sends only the latest stage, paid/void/opted-out invoices get nothing."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection

from solodesk.invoicing import services as invoicing
from solodesk.invoicing.models import Invoice, InvoiceActivity
from solodesk.invoicing.tests.factories import make_client
from solodesk.reminders import services, tasks
from solodesk.reminders.models import LateFee, Reminder, ReminderSettings, ReminderStage
from solodesk.reminders.tests.helpers import at, issued, sweep_and_send
from solodesk.tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db
DUE = dt.date(2026, 4, 1)
DAY = dt.timedelta(days=1)


def test_issued_invoices_fall_due_on_the_first_of_april(owner):
    assert issued(owner).due_date == DUE


def test_each_stage_goes_out_once_ever_with_a_sweep_every_day_twice(owner):
    invoice = issued(owner)
    day = DUE - 5 * DAY
    while day <= DUE + 30 * DAY:
        with time_machine.travel(at(day), tick=False):
            sweep_and_send()
            sweep_and_send()
        day += DAY

    subjects = [message.subject for message in mail.outbox]
    assert subjects == [
        "Invoice 2026-0001 is due on 1 April 2026",
        "Invoice 2026-0001 is due today",
        "Invoice 2026-0001 is 7 days overdue",
        "Second reminder: invoice 2026-0001 is overdue",
    ]
    rows = Reminder.objects.filter(invoice=invoice).order_by("offset_days")
    assert [(r.offset_days, r.status) for r in rows] == [
        (-3, "sent"),
        (0, "sent"),
        (7, "sent"),
        (14, "sent"),
    ]
    assert InvoiceActivity.objects.filter(invoice=invoice, action="reminder_sent").count() == 4


@time_machine.travel(at(DUE), tick=False)
def test_two_sweeps_in_a_row_queue_one_reminder_and_the_client_gets_one_email(owner, broker):
    issued(owner)
    services.reminder_settings_ensure(workspace=owner.workspace)
    ReminderStage.objects.filter(workspace=owner.workspace, offset_days=-3).delete()

    first = services.reminders_sweep(enqueue=False)
    second = services.reminders_sweep(enqueue=False)
    for reminder_id in first.queued + second.queued:
        tasks.reminder_send_task(reminder_id)

    assert len(first.queued) == 1
    assert second.queued == []
    assert len(mail.outbox) == 1


@time_machine.travel(at(DUE + 7 * DAY), tick=False)
def test_the_send_task_run_twice_sends_one_email(owner):
    invoice = issued(owner)
    with time_machine.travel(at(DUE), tick=False):
        sweep_and_send()
    mail.outbox.clear()
    result = services.reminders_sweep(enqueue=False)
    [reminder_id] = result.queued

    tasks.reminder_send_task(reminder_id)
    tasks.reminder_send_task(reminder_id)

    assert len(mail.outbox) == 1
    assert Reminder.objects.get(pk=reminder_id).status == "sent"
    assert InvoiceActivity.objects.filter(invoice=invoice, action="reminder_sent").count() == 2


def test_a_task_that_finds_its_row_already_claimed_sends_nothing(owner):
    issued(owner)
    with time_machine.travel(at(DUE), tick=False):
        [reminder_id, *_] = services.reminders_sweep(enqueue=False).queued
        Reminder.objects.filter(pk=reminder_id).update(status="sending")  # a live worker has it
        tasks.reminder_send_task(reminder_id)
    assert mail.outbox == []


def test_catch_up_after_days_down_sends_only_the_latest_stage_and_records_the_others(owner):
    invoice = issued(owner)
    with time_machine.travel(at(DUE - 3 * DAY), tick=False):
        sweep_and_send()
    # The scheduler was down from 29 March until 16 April: stages 0, 7 and 14 are all due.
    with time_machine.travel(at(DUE + 15 * DAY), tick=False):
        result = sweep_and_send()

    assert [m.subject for m in mail.outbox] == [
        "Invoice 2026-0001 is due on 1 April 2026",
        "Second reminder: invoice 2026-0001 is overdue",
    ]
    assert result.skipped == 2
    rows = {r.offset_days: r for r in Reminder.objects.filter(invoice=invoice)}
    assert {offset: row.status for offset, row in rows.items()} == {
        -3: "sent",
        0: "skipped",
        7: "skipped",
        14: "sent",
    }
    assert "only that one was sent" in rows[7].error
    skipped = InvoiceActivity.objects.filter(invoice=invoice, action="reminder_skipped")
    assert [a.message for a in skipped.order_by("message")] == [
        "Reminder 7 days after the due date not sent. Reminder 14 days after the due date was "
        "due at the same time (the scheduler was not running): only that one was sent.",
        "Reminder on the due date not sent. Reminder 14 days after the due date was due at "
        "the same time (the scheduler was not running): only that one was sent.",
    ]
    # …and the skipped stages never go out later.
    with time_machine.travel(at(DUE + 40 * DAY), tick=False):
        assert sweep_and_send().queued == []
    assert len(mail.outbox) == 2


def test_a_stage_added_after_a_later_one_went_out_is_recorded_skipped(owner):
    invoice = issued(owner)
    with time_machine.travel(at(DUE + 7 * DAY), tick=False):
        sweep_and_send()
        mail.outbox.clear()
        ReminderStage.objects.create(
            workspace=owner.workspace, offset_days=3, subject="3 days", body="Hi"
        )
        assert sweep_and_send().queued == []
    assert mail.outbox == []
    assert Reminder.objects.get(invoice=invoice, offset_days=3).status == "skipped"


def test_paid_void_and_opted_out_invoices_get_nothing(owner):
    paid = issued(owner)
    invoicing.payment_record(
        invoice=paid, user=owner.user, amount=paid.total, date=DUE, method="bank_transfer"
    )
    void = issued(owner)
    invoicing.invoice_void(invoice=void, user=owner.user, reason="Mistake")
    opted_out = issued(owner)
    Invoice.objects.filter(pk=opted_out.pk).update(reminders_enabled=False)
    quiet_client = make_client(owner.workspace, email="q@quiet.test", reminders_enabled=False)
    issued(owner, client=quiet_client)
    draft_only = invoicing.invoice_create_draft(
        workspace=owner.workspace, user=owner.user, client=quiet_client, lines=[]
    )

    with time_machine.travel(at(DUE + 20 * DAY), tick=False):
        result = sweep_and_send()

    assert result.queued == []
    assert mail.outbox == []
    assert not Reminder.objects.exists()
    assert draft_only.status == "draft"


def test_an_invoice_paid_after_its_reminder_was_queued_is_skipped_at_send_time(owner):
    invoice = issued(owner)
    with time_machine.travel(at(DUE), tick=False):
        queued = services.reminders_sweep(enqueue=False).queued
        invoicing.payment_record(
            invoice=invoice, user=owner.user, amount=invoice.total, date=DUE, method="card"
        )
        for reminder_id in queued:
            tasks.reminder_send_task(reminder_id)

    assert mail.outbox == []
    row = Reminder.objects.get(pk=queued[0])
    assert row.status == "skipped"
    assert row.error == "Not sent: the invoice is paid."
    assert InvoiceActivity.objects.filter(
        invoice=invoice, action="reminder_skipped", message__contains="the invoice is paid"
    ).exists()


def test_partly_paid_invoices_are_reminded_of_what_is_still_due_with_every_placeholder(owner):
    owner.workspace.locale = "de-DE"
    owner.workspace.save()
    invoice = issued(owner)
    invoicing.payment_record(
        invoice=invoice, user=owner.user, amount=Decimal("210.00"), date=DUE, method="card"
    )
    services.reminder_settings_ensure(workspace=owner.workspace)
    ReminderStage.objects.filter(workspace=owner.workspace, offset_days=7).update(
        subject="{number}: {days_overdue} days",
        body="{client}|{number}|{amount_due}|{due_date}|{days_overdue}|{portal_link}|{business}|{x}",
    )
    with time_machine.travel(at(DUE + 8 * DAY), tick=False):
        sweep_and_send()

    [message] = mail.outbox
    invoice.refresh_from_db()
    assert message.subject == "2026-0001: 8 days"
    assert message.to == ["billing@acme.test"]
    assert message.body == (
        f"Acme Robotics|2026-0001|1.000,00 EUR|01.04.2026|8|"
        f"https://desk.example.com/p/{invoice.portal_token}/|Owner Studio|{{x}}\n"
    )
    assert message.from_email == "Owner Studio <billing@desk.example.com>"


def test_the_late_fee_is_charged_once_per_invoice_as_a_draft_invoice(owner):
    invoice = issued(owner)
    services.reminder_settings_update(
        workspace=owner.workspace,
        stages=[{"offset_days": o, "subject": f"S{o}", "body": "B"} for o in (0, 7, 14, 21)],
        late_fee_type="percent",
        late_fee_value=Decimal("2.5"),
        late_fee_after_days=7,
    )
    for days in (0, 7, 14, 21):
        with time_machine.travel(at(DUE + days * DAY), tick=False):
            sweep_and_send()

    assert len(mail.outbox) == 4
    fee = LateFee.objects.get(invoice=invoice)
    assert fee.amount == Decimal("30.25")  # 2.5 % of 1,210.00
    assert fee.fee_invoice.status == "draft"
    assert fee.fee_invoice.client_id == invoice.client_id
    assert [line.description for line in fee.fee_invoice.lines.all()] == [
        "Late fee for invoice 2026-0001 (due 1 Apr 2026)"
    ]
    assert fee.fee_invoice.total == Decimal("30.25")
    assert InvoiceActivity.objects.filter(invoice=invoice, action="late_fee").count() == 1


def test_no_late_fee_without_a_rule_or_for_reminders_sent_by_hand(owner, broker):
    invoice = issued(owner)
    with time_machine.travel(at(DUE + 30 * DAY), tick=False):
        sweep_and_send()
        reminder = services.reminder_send_now(invoice=invoice, user=owner.user)
        ReminderSettings.objects.update(late_fee_type="fixed", late_fee_value=Decimal("10"))
        tasks.reminder_send_task(reminder.pk)
    assert len(mail.outbox) == 2
    assert not LateFee.objects.exists()


def test_schedules_are_per_workspace_and_created_on_first_need(owner):
    issued(owner)
    other = WorkspaceFactory()
    assert not ReminderSettings.objects.exists()
    with time_machine.travel(at(DUE), tick=False):
        sweep_and_send()
    assert ReminderSettings.objects.filter(workspace=owner.workspace).exists()
    assert not ReminderSettings.objects.filter(workspace=other).exists()
    assert ReminderStage.objects.filter(workspace=owner.workspace).count() == 4


def test_a_mail_server_error_fails_the_reminder_with_a_message_and_an_activity(owner):
    import smtplib

    invoice = issued(owner)
    with time_machine.travel(at(DUE), tick=False):
        [reminder_id] = services.reminders_sweep(enqueue=False).queued
        with mock.patch(
            "django.core.mail.EmailMessage.send",
            side_effect=smtplib.SMTPRecipientsRefused({"billing@acme.test": (550, b"no")}),
        ):
            tasks.reminder_send_task(reminder_id)
    row = Reminder.objects.get(pk=reminder_id)
    assert row.status == "failed"
    assert (
        row.error
        == "The mail server refused the address billing@acme.test. Check it and send again."
    )
    assert InvoiceActivity.objects.filter(invoice=invoice, action="reminder_failed").count() == 1


# --- broker outage, lost messages and dead workers ------------------------------------------


def test_a_broker_outage_loses_nothing_the_next_sweep_hands_the_row_over_again(
    owner, settings, django_capture_on_commit_callbacks
):
    settings.JOB_REQUEUE_AFTER_SECONDS = 300
    issued(owner)
    with time_machine.travel(at(DUE), tick=False):
        with (
            mock.patch(
                "solodesk.config.celery_app.app.send_task", side_effect=OSError("refused")
            ) as send,
            django_capture_on_commit_callbacks(execute=True),
        ):
            result = services.reminders_sweep()
        assert send.call_count == 1
    [reminder_id] = result.queued
    assert Reminder.objects.get(pk=reminder_id).status == "queued"

    with (
        time_machine.travel(at(DUE) + dt.timedelta(minutes=6), tick=False),
        mock.patch("solodesk.config.celery_app.app.send_task") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        again = services.reminders_sweep()
    assert again.queued == []
    assert again.requeued == 1
    send.assert_called_once_with("solodesk.reminders.tasks.reminder_send_task", args=[reminder_id])
    tasks.reminder_send_task(reminder_id)
    tasks.reminder_send_task(reminder_id)
    assert len(mail.outbox) == 1


def test_a_row_stuck_in_sending_after_its_worker_died_is_failed_not_resent(owner):
    invoice = issued(owner)
    with time_machine.travel(at(DUE), tick=False):
        [reminder_id] = services.reminders_sweep(enqueue=False).queued
        Reminder.objects.filter(pk=reminder_id).update(status="sending")
    with time_machine.travel(at(DUE) + dt.timedelta(minutes=2), tick=False):
        result = services.reminders_sweep(enqueue=False)
        tasks.reminder_send_task(reminder_id)  # the redelivered message
    assert result.failed_stale == 1
    row = Reminder.objects.get(pk=reminder_id)
    assert row.status == "failed"
    assert "may or may not have arrived" in row.error
    assert mail.outbox == []
    assert InvoiceActivity.objects.filter(invoice=invoice, action="reminder_failed").count() == 1


@pytest.mark.parametrize("stuck", [1, 4])
def test_rows_stuck_in_sending_are_failed_together_whatever_their_number(
    owner, stuck, django_assert_num_queries
):
    invoices = [issued(owner) for _ in range(stuck)]
    with time_machine.travel(at(DUE), tick=False):
        ids = services.reminders_sweep(enqueue=False).queued
        for index, reminder_id in enumerate(ids):
            Reminder.objects.filter(pk=reminder_id).update(
                status="sending", to_email=f"billing{index}@acme.test"
            )
    # The sweep's stale part: 1. stale queued rows  2. any row stuck in sending
    # 3. SAVEPOINT  4. the stuck rows, locked  5. UPDATE them all  6. INSERT the activities
    # 7. RELEASE — after the 2 set-up queries and the (empty) batch query: nothing is due
    with (
        time_machine.travel(at(DUE) + dt.timedelta(minutes=2), tick=False),
        django_assert_num_queries(3 + 7),
    ):
        result = services.reminders_sweep(enqueue=False)
    assert result.failed_stale == stuck
    for index, reminder_id in enumerate(ids):
        row = Reminder.objects.get(pk=reminder_id)
        assert row.status == "failed"
        assert row.error == (
            f"The worker stopped while sending to billing{index}@acme.test, so the reminder "
            "may or may not have arrived. Check with your client before sending another one."
        )
    assert (
        InvoiceActivity.objects.filter(invoice__in=invoices, action="reminder_failed").count()
        == stuck
    )


# --- cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("invoices", [3, 12])
def test_the_sweep_costs_the_same_queries_whatever_the_number_of_invoices(
    owner, invoices, django_assert_num_queries
):
    for _ in range(invoices):
        issued(owner)
    services.reminder_settings_ensure(workspace=owner.workspace)

    # 1. workspaces with open invoices but no schedule yet (none)
    # 2. the enabled stages of every workspace
    # 3. the batch of invoices with a due, unrecorded stage
    # 4. the stages already recorded for that batch
    # 5. SAVEPOINT  6. INSERT … ON CONFLICT DO NOTHING of the batch's reminder rows
    # 7. read back this run's rows  8. INSERT the "skipped" activities  9. RELEASE
    # 10. stale queued rows  11. rows stuck in sending
    with (
        time_machine.travel(at(DUE + 8 * DAY), tick=False),
        django_assert_num_queries(11),
    ):
        result = services.reminders_sweep(enqueue=False)

    assert len(result.queued) == invoices
    assert result.skipped == 2 * invoices  # −3 and 0 caught up; 7 queued


@pytest.mark.parametrize("invoices", [10, 25])
def test_the_sweep_costs_a_fixed_number_of_queries_per_batch(
    owner, invoices, django_assert_max_num_queries
):
    for _ in range(invoices):
        issued(owner)
    services.reminder_settings_ensure(workspace=owner.workspace)
    with time_machine.travel(at(DUE + 8 * DAY), tick=False):
        # Per batch of 5: the batch, recorded stages, savepoint, insert, read-back,
        # activities, release = 7; plus the 2 set-up and 2 stale-row queries, and one more
        # (empty) batch query when the last batch was full.
        batches = invoices // 5
        with django_assert_max_num_queries(2 + 7 * batches + 1 + 2):
            result = services.reminders_sweep(enqueue=False, batch_size=5)
    assert result.batches == batches
    assert len(result.queued) == invoices


# --- concurrency (PostgreSQL) ----------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises all writers; two sweeps at the same moment are only a race on "
    "PostgreSQL.",
)


def _in_thread(function, *args):
    try:
        return function(*args)
    finally:
        connection.close()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_and_two_workers_per_task_send_one_email_per_stage(owner):
    invoices = [issued(owner) for _ in range(30)]
    start = threading.Barrier(2)

    def sweep(_):
        def call():
            start.wait()
            return services.reminders_sweep(enqueue=False, batch_size=7).queued

        return _in_thread(call)

    with time_machine.travel(at(DUE), tick=False):
        with ThreadPoolExecutor(max_workers=2) as pool:
            queued = [i for ids in pool.map(sweep, range(2)) for i in ids]
        assert len(queued) == len(set(queued)) == 30
        # Every reminder handed to two workers at once.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda i: _in_thread(tasks.reminder_send_task, i), queued + queued))

    assert len(mail.outbox) == 30
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        invoice.client.email for invoice in invoices
    )
    assert Reminder.objects.filter(status="sent").count() == 30
    assert Reminder.objects.filter(status="skipped").count() == 30  # the −3 stage, caught up
    assert InvoiceActivity.objects.filter(action="reminder_skipped").count() == 30
    assert InvoiceActivity.objects.filter(action="reminder_sent").count() == 30
