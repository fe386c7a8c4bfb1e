"""The dashboard on a 375 px phone: nothing wider than the screen, the charts scale, and a
quick start starts the timer in one tap."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from solodesk.invoicing import services as invoicing
from solodesk.tests.factories import (
    DEFAULT_PASSWORD,
    ClientFactory,
    MembershipFactory,
    ProjectFactory,
    TimeEntryFactory,
    UserFactory,
)
from solodesk.timetracking.models import RunningTimer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_fits_a_phone_and_starts_a_timer_in_one_tap(browser, live_server):
    user = UserFactory(email="phone@example.com")
    workspace = MembershipFactory(user=user, workspace__name="Phone Studio").workspace
    client = ClientFactory(workspace=workspace, name="Acme Ltd with a rather long name")
    project = ProjectFactory(client=client, name="Rebrand", hourly_rate=Decimal("100.00"))
    started = timezone.now() - dt.timedelta(days=3)
    TimeEntryFactory(
        project=project,
        user=user,
        started_at=started,
        ended_at=started + dt.timedelta(hours=2),
    )
    invoice = invoicing.invoice_create_draft(
        workspace=workspace,
        user=user,
        client=client,
        lines=[
            {
                "description": "Design",
                "quantity": Decimal("3"),
                "unit": "hours",
                "unit_price": Decimal("1234.50"),
                "tax_rate": Decimal("21"),
            }
        ],
    )
    invoicing.invoice_issue(invoice=invoice, user=user)

    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 375, "height": 812}, is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.fill("input[name=login]", "phone@example.com")
        page.fill("input[name=password]", DEFAULT_PASSWORD)
        page.locator("main form button[type=submit]").click()
        expect(page.locator("h1")).to_have_text("Dashboard")

        widest = page.evaluate("document.documentElement.scrollWidth")
        assert widest <= 375, f"the page is {widest} px wide on a 375 px screen"
        chart = page.locator("[data-testid=chart-revenue-eur] svg")
        box = chart.bounding_box()
        assert box is not None and 250 < box["width"] <= 375
        expect(page.get_by_test_id("dashboard-unbilled")).to_contain_text("200.00 EUR")

        page.get_by_test_id("quick-starts").get_by_role("button", name="Rebrand").click()
        expect(page.get_by_test_id("dashboard-timer")).to_contain_text("Rebrand")
        assert RunningTimer.objects.get(user=user).project == project
    finally:
        context.close()
