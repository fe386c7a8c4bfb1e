"""From unbilled time to an invoice the client has opened, in a real browser: create the
draft from time, issue it, send it (the worker's task runs here, as a worker would run it),
open the link from the e-mail as the client, and see it marked as viewed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from solodesk.invoicing.models import Invoice, InvoiceActivity, InvoiceDelivery
from solodesk.invoicing.tasks import invoice_send_task
from solodesk.tests.factories import (
    DEFAULT_PASSWORD,
    ClientFactory,
    MembershipFactory,
    ProjectFactory,
    TimeEntryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def select_option_containing(select, text: str) -> None:
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value)


def test_unbilled_time_becomes_an_invoice_the_client_opens(page):
    user = UserFactory(email="maria@example.com")
    membership = MembershipFactory(user=user, workspace__name="Maria Lopez Design")
    workspace = membership.workspace
    client = ClientFactory(workspace=workspace, name="Acme Ltd", email="ap@acme.example")
    project = ProjectFactory(client=client, name="Rebrand", hourly_rate=Decimal("100.00"))
    started = timezone.now() - dt.timedelta(days=3)
    TimeEntryFactory(
        project=project,
        user=user,
        started_at=started,
        ended_at=started + dt.timedelta(hours=2, minutes=30),
        description="Logo sketches",
    )

    page.goto("/accounts/login/")
    page.fill("input[name=login]", "maria@example.com")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").click()

    page.goto("/invoices/from-time/")
    select_option_containing(page.locator("main select[name=client]"), "Acme Ltd")
    page.get_by_role("button", name="Create draft").click()
    expect(page.locator("[data-testid=lines]")).to_contain_text("Rebrand")
    expect(page.locator("[data-testid=totals]")).to_contain_text("250.00")

    page.get_by_role("button", name="Issue invoice").click()
    invoice = Invoice.objects.get(workspace=workspace)
    assert invoice.status == Invoice.Status.ISSUED
    expect(page.locator("h1")).to_contain_text(invoice.number)

    page.locator("#send").get_by_role("button", name=re.compile("Send")).click()
    delivery = InvoiceDelivery.objects.get(invoice=invoice)
    assert delivery.to_email == "ap@acme.example"
    invoice_send_task(delivery.job_id)  # what the worker does with the queued job

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ap@acme.example"]
    assert invoice.number in message.subject
    assert message.attachments[0][2] == "application/pdf"
    link = re.search(r"https?://\S+/p/[\w-]+/", message.body).group(0)
    portal_path = "/p/" + link.split("/p/", 1)[1]

    client_view = page.context.browser.new_context(base_url=page.url.split("/invoices/")[0])
    portal = client_view.new_page()
    portal.goto(portal_path)
    expect(portal.locator("body")).to_contain_text(invoice.number)
    expect(portal.locator("body")).to_contain_text("250.00")
    expect(portal.locator("body")).not_to_contain_text("Log out")
    client_view.close()

    page.reload()
    expect(page.get_by_test_id("client-link")).to_contain_text("Opened by the client")
    actions = list(InvoiceActivity.objects.filter(invoice=invoice).values_list("action", flat=True))
    assert actions.count(InvoiceActivity.Action.VIEWED) == 1
    assert InvoiceActivity.Action.SENT in actions
