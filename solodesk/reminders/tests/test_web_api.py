"""Reminder pages and API: settings (owner edits, member reads), "send a reminder now" on the
invoice page and in the API, the per-invoice switch; strangers get 404, query counts fixed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from solodesk.clients.models import Client
from solodesk.invoicing.models import Invoice, InvoiceActivity
from solodesk.invoicing.tests.factories import make_client
from solodesk.reminders import services, tasks
from solodesk.reminders.models import Reminder, ReminderSettings, ReminderStage
from solodesk.reminders.tests.helpers import at, issued

pytestmark = pytest.mark.django_db
SETTINGS_URL = "/reminders/settings/"
API = "/api/v1/reminders"
DUE = dt.date(2026, 4, 1)


def _stage_post(stages, fee=("none", "0", "14")):
    data = {
        "stages-TOTAL_FORMS": str(len(stages)),
        "stages-INITIAL_FORMS": "0",
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "12",
        "fee-late_fee_type": fee[0],
        "fee-late_fee_value": fee[1],
        "fee-late_fee_after_days": fee[2],
    }
    for index, (offset, subject, body) in enumerate(stages):
        data[f"stages-{index}-offset_days"] = str(offset)
        data[f"stages-{index}-subject"] = subject
        data[f"stages-{index}-body"] = body
        data[f"stages-{index}-is_enabled"] = "on"
    return data


# --- settings page ---------------------------------------------------------------------------


def test_the_settings_page_shows_the_default_schedule(owner):
    response = owner.client.get(SETTINGS_URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="reminder-settings-form"' in content
    assert content.count('data-testid="stage"') == 5  # 4 defaults + 1 to add
    assert "Invoice {number} is due today" in content


def test_the_owner_saves_stages_and_a_late_fee(owner):
    response = owner.client.post(
        SETTINGS_URL,
        _stage_post(
            [(5, "Late: {number}", "Hello {client}"), (-1, "Soon", "Pay {amount_due}")],
            fee=("fixed", "25.00", "5"),
        ),
    )
    assert response.status_code == 302
    stages = ReminderStage.objects.filter(workspace=owner.workspace)
    assert [(s.offset_days, s.subject) for s in stages] == [(-1, "Soon"), (5, "Late: {number}")]
    row = ReminderSettings.objects.get(workspace=owner.workspace)
    assert (row.late_fee_type, row.late_fee_value, row.late_fee_after_days) == (
        "fixed",
        Decimal("25.00"),
        5,
    )


def test_an_unknown_placeholder_is_shown_beside_its_field_and_nothing_changes(owner):
    owner.client.get(SETTINGS_URL)
    response = owner.client.post(SETTINGS_URL, _stage_post([(3, "Hi", "Pay {amount}")]))
    assert response.status_code == 400
    assert "Unknown placeholder {amount}" in response.content.decode()
    assert ReminderStage.objects.filter(workspace=owner.workspace).count() == 4


def test_a_member_reads_the_settings_but_cannot_change_them(member):
    response = member.client.get(SETTINGS_URL)
    assert response.status_code == 200
    assert 'data-testid="reminder-settings-readonly"' in response.content.decode()
    response = member.client.post(SETTINGS_URL, _stage_post([(1, "x", "y")]))
    assert response.status_code == 404
    assert ReminderStage.objects.filter(workspace=member.workspace).count() == 4


@pytest.mark.parametrize("stages", [1, 10])
def test_the_settings_page_costs_the_same_queries_whatever_the_number_of_stages(
    owner, stages, django_assert_num_queries
):
    services.reminder_settings_update(
        workspace=owner.workspace,
        stages=[{"offset_days": i, "subject": "S", "body": "B"} for i in range(stages)],
        late_fee_type="none",
        late_fee_value=Decimal("0"),
        late_fee_after_days=14,
    )
    # 1. session 2. user (+ timer) 3. membership (+ workspace) 4. settings row exists?
    # 5. settings row 6. stages
    with django_assert_num_queries(6):
        response = owner.client.get(SETTINGS_URL)
    assert response.status_code == 200


# --- the invoice page --------------------------------------------------------------------------


def test_the_invoice_page_offers_send_now_and_the_switch(owner):
    invoice = issued(owner)
    response = owner.client.get(reverse("invoicing:detail", args=[invoice.public_id]))
    content = response.content.decode()
    assert reverse("reminders:invoice_send", args=[invoice.public_id]) in content
    assert "Turn off automatic reminders" in content


def test_send_now_queues_one_reminder_and_its_task_sends_it(
    member, broker, django_capture_on_commit_callbacks
):
    invoice = issued(member)
    url = reverse("reminders:invoice_send", args=[invoice.public_id])
    with time_machine.travel(at(DUE + dt.timedelta(days=3)), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = member.client.post(url)
        assert response.status_code == 302
        reminder = Reminder.objects.get(invoice=invoice)
        broker.assert_called_once_with([reminder.pk])
        assert (reminder.offset_days, reminder.requested_by) == (None, member.user)
        tasks.reminder_send_task(reminder.pk)
        tasks.reminder_send_task(reminder.pk)
    [message] = mail.outbox
    assert message.subject == "Invoice 2026-0001 is due today"  # latest stage already due
    assert message.reply_to == [member.user.email]
    activity = InvoiceActivity.objects.get(invoice=invoice, action="reminder_sent")
    assert activity.actor == member.user
    assert "sent by hand" in activity.message


def test_send_now_refuses_a_paid_invoice_with_a_message(owner, broker):
    invoice = issued(owner)
    Invoice.objects.filter(pk=invoice.pk).update(status="paid", amount_paid=invoice.total)
    response = owner.client.post(
        reverse("reminders:invoice_send", args=[invoice.public_id]), follow=True
    )
    assert "Only an issued invoice with money still due" in response.content.decode()
    assert not Reminder.objects.exists()


def test_a_stranger_gets_404_and_nothing_happens(owner, stranger, broker):
    invoice = issued(owner)
    for name in ("reminders:invoice_send", "reminders:invoice_toggle"):
        response = stranger.client.post(reverse(name, args=[invoice.public_id]))
        assert response.status_code == 404
    response = stranger.api().post(
        f"{API}/invoices/{invoice.public_id}/send", content_type="application/json"
    )
    assert response.status_code == 404
    assert not Reminder.objects.exists()
    invoice.refresh_from_db()
    assert invoice.reminders_enabled is True
    assert stranger.api().get(API, {"invoice_id": invoice.public_id}).json()["count"] == 0


def test_the_switch_turns_automatic_reminders_off_and_on(owner):
    invoice = issued(owner)
    url = reverse("reminders:invoice_toggle", args=[invoice.public_id])
    assert owner.client.post(url, {"enabled": "0"}).status_code == 302
    invoice.refresh_from_db()
    assert invoice.reminders_enabled is False
    with time_machine.travel(at(DUE + dt.timedelta(days=30)), tick=False):
        assert services.reminders_sweep(enqueue=False).queued == []
    owner.client.post(url, {"enabled": "1"})
    invoice.refresh_from_db()
    assert invoice.reminders_enabled is True
    assert InvoiceActivity.objects.filter(invoice=invoice, action="updated").count() == 2


def test_the_client_form_has_the_reminders_switch(owner):
    client = make_client(owner.workspace)
    response = owner.client.post(
        reverse("clients:edit", args=[client.public_id]),
        {
            "name": client.name,
            "email": client.email,
            "currency": "EUR",
            "payment_terms_days": "30",
        },
    )
    assert response.status_code == 302
    assert Client.objects.get(pk=client.pk).reminders_enabled is False


# --- API -------------------------------------------------------------------------------------


def test_api_settings_round_trip(owner):
    api = owner.api()
    body = api.get(f"{API}/settings").json()
    assert [s["offset_days"] for s in body["stages"]] == [-3, 0, 7, 14]
    assert body["late_fee"] == {"type": "none", "value": "0.00", "after_days": 14}

    new = {
        "stages": [{"offset_days": 10, "subject": "Overdue {number}", "body": "Pay please"}],
        "late_fee": {"type": "percent", "value": "1.50", "after_days": 10},
    }
    response = api.put(f"{API}/settings", new, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {
        "stages": [
            {
                "offset_days": 10,
                "subject": "Overdue {number}",
                "body": "Pay please",
                "is_enabled": True,
            }
        ],
        "late_fee": {"type": "percent", "value": "1.50", "after_days": 10},
    }


def test_api_settings_errors_are_json_by_field(owner):
    api = owner.api()
    response = api.put(
        f"{API}/settings",
        {
            "stages": [
                {"offset_days": 1, "subject": "A", "body": "{nope}"},
                {"offset_days": 1, "subject": "B", "body": "x"},
            ],
            "late_fee": {"type": "percent", "value": "150", "after_days": 3},
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"stages.0.body", "stages.1.offset_days", "late_fee_value"}
    response = api.put(
        f"{API}/settings",
        {"stages": [{"offset_days": 999, "subject": "", "body": "x"}], "late_fee": {}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert {"stages.0.offset_days", "stages.0.subject"} <= set(response.json()["errors"])


def test_api_a_member_reads_the_settings_but_cannot_replace_them(member):
    api = member.api()
    assert api.get(f"{API}/settings").status_code == 200
    response = api.put(
        f"{API}/settings",
        {"stages": [], "late_fee": {}},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert ReminderStage.objects.filter(workspace=member.workspace).count() == 4


def test_api_send_now_answers_202_with_the_reminder(owner, broker):
    invoice = issued(owner)
    response = owner.api().post(
        f"{API}/invoices/{invoice.public_id}/send",
        {"to_email": "ap@acme.test"},
        content_type="application/json",
    )
    assert response.status_code == 202
    reminder = Reminder.objects.get()
    assert response.json() == {"reminder_id": str(reminder.public_id)}
    assert reminder.to_email == "ap@acme.test"
    bad = owner.api().post(
        f"{API}/invoices/{invoice.public_id}/send",
        {"to_email": "nope"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["to_email"]


@pytest.mark.parametrize("invoices", [2, 12])
def test_api_list_costs_the_same_queries_whatever_the_number_of_reminders(
    owner, invoices, django_assert_num_queries
):
    for _ in range(invoices):
        issued(owner)
    with time_machine.travel(at(DUE + dt.timedelta(days=8)), tick=False):
        services.reminders_sweep(enqueue=False)
    api = owner.api()
    # 1. API token (+ workspace, user, timer) 2. COUNT 3. the page joined with the invoices
    with django_assert_num_queries(3):
        response = api.get(API, {"limit": 100})
    assert response.json()["count"] == 3 * invoices
    one = Invoice.objects.first()
    body = api.get(API, {"invoice_id": str(one.public_id)}).json()
    assert body["count"] == 3
    assert {item["stage_offset_days"] for item in body["items"]} == {-3, 0, 7}
