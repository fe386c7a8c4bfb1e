"""`solodesk remind`: the sweep, synchronously, with what it queued."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from solodesk.cli import main
from solodesk.reminders.models import Reminder
from solodesk.reminders.tests.helpers import at, issued

pytestmark = pytest.mark.django_db


def test_remind_prints_what_it_queued_and_a_second_run_queues_nothing(owner, broker, capsys):
    issued(owner)
    with time_machine.travel(at(dt.date(2026, 4, 8)), tick=False):
        assert main(["remind"]) == 0
        first = capsys.readouterr().out.splitlines()
        assert main(["remind"]) == 0
        second = capsys.readouterr().out.splitlines()

    assert first == [
        "queued 2026-0001 → billing@acme.test (7 days after the due date)",
        "1 reminder(s) queued, 2 skipped (caught up), 0 handed to the broker again, "
        "0 stuck marked failed.",
    ]
    assert second[0].startswith("0 reminder(s) queued, 0 skipped")
    assert Reminder.objects.filter(status="queued").count() == 1


def test_remind_send_sends_in_process(owner, capsys):
    issued(owner)
    with time_machine.travel(at(dt.date(2026, 4, 1)), tick=False):
        assert main(["remind", "--send"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "1 sent."
    assert [m.subject for m in mail.outbox] == ["Invoice 2026-0001 is due today"]


def test_the_demo_has_a_schedule_and_reminders_sent_on_its_overdue_invoice(capsys):
    from solodesk.invoicing.models import Invoice, InvoiceActivity
    from solodesk.reminders.models import ReminderStage

    assert main(["demo"]) == 0
    overdue = [i for i in Invoice.objects.filter(status="issued") if i.is_overdue]
    assert overdue
    assert ReminderStage.objects.count() == 4
    assert Reminder.objects.filter(invoice__in=overdue, status="sent").exists()
    assert InvoiceActivity.objects.filter(action="reminder_sent").exists()
    assert mail.outbox == []  # the demo's clients are not real people
    counts = (Reminder.objects.count(), InvoiceActivity.objects.count())
    assert main(["demo"]) == 0
    assert (Reminder.objects.count(), InvoiceActivity.objects.count()) == counts
