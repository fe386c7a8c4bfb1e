"""A new user is led by the onboarding checklist from sign-up to a first paid invoice, in a
real browser, following only the prompts' buttons from the dashboard (and the forms those
buttons open); after each step the checklist has ticked it. At the end the conversion
report shows this run's shown, clicked and completed events."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from solodesk.invoicing.models import Invoice
from solodesk.prompts.models import PromptEvent, PromptState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = [
    "business_profile",
    "add_client",
    "create_project",
    "track_time",
    "issue_invoice",
    "record_payment",
]


def checklist(page):
    return page.locator("[data-prompt-key=onboarding]")


def expect_ticked(page, done: int) -> None:
    """The first `done` steps are ticked, the others not."""
    card = checklist(page)
    for index, step in enumerate(STEPS):
        expect(card.locator(f"[data-step={step}]")).to_have_attribute(
            "data-done", "true" if index < done else "false"
        )
    expect(card).to_contain_text(f"{done} of 6 done")


def follow_checklist(page, label: str) -> None:
    button = checklist(page).get_by_test_id("prompt-cta")
    expect(button).to_have_text(label)
    button.click()


def go_home(page) -> None:
    page.locator("header .brand").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_the_checklist_leads_a_new_user_to_a_first_paid_invoice(page):
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", "grace@example.com")
    page.fill("input[name=password1]", "a long enough passphrase")
    page.fill("input[name=password2]", "a long enough passphrase")
    page.fill("input[name=business_name]", "Grace Studio")
    page.select_option("select[name=default_currency]", "EUR")
    page.select_option("select[name=time_zone]", "Europe/Brussels")
    page.locator("main form button[type=submit]").click()
    go_home(page)
    expect_ticked(page, 0)

    # 1. Business profile: the button opens the settings; the brand link leads back home.
    follow_checklist(page, "Complete your business profile")
    expect(page).to_have_url(re.compile(r"/settings/workspace/$"))
    form = page.get_by_test_id("workspace-form")
    form.locator("textarea[name=address]").fill("3 Rue Haute\n1000 Brussels")
    form.locator("input[name=tax_id]").fill("BE0123456789")
    form.locator("textarea[name=payment_details]").fill("IBAN BE71 0961 2345 6769")
    form.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("saved")
    go_home(page)
    expect_ticked(page, 1)

    # 2. A client: the form returns to the dashboard by itself.
    follow_checklist(page, "Add your first client")
    page.fill("main input[name=name]", "Acme Ltd")
    page.fill("main input[name=email]", "ap@acme.example")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect_ticked(page, 2)

    # 3. A project for that client (pre-selected by the button).
    follow_checklist(page, "Create a project")
    expect(page.locator("main select[name=client] option:checked")).to_have_text(
        re.compile("Acme Ltd")
    )
    page.fill("main input[name=name]", "Website")
    page.fill("main input[name=hourly_rate]", "120")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect_ticked(page, 3)

    # 4. The first hour, with the project pre-selected.
    follow_checklist(page, "Track your first hour")
    expect(page.locator("main select[name=project] option:checked")).to_have_text(
        re.compile("Website")
    )
    page.fill("main input[name=duration]", "1:30")
    page.fill("main input[name=description]", "Kick-off workshop")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect_ticked(page, 4)

    # 5. Invoice the tracked time (client pre-selected) and issue it.
    follow_checklist(page, "Invoice your tracked time")
    expect(page.locator("main select[name=client] option:checked")).to_have_text(
        re.compile("Acme Ltd")
    )
    page.get_by_role("button", name="Create draft").click()
    expect(page.locator("[data-testid=totals]")).to_contain_text("180.00")
    page.get_by_role("button", name="Issue invoice").click()
    invoice = Invoice.objects.get(workspace__name="Grace Studio")
    assert invoice.status == Invoice.Status.ISSUED
    go_home(page)
    expect_ticked(page, 5)

    # 6. Record the payment: the button opens the invoice at its payment form.
    follow_checklist(page, "Record a payment")
    expect(page).to_have_url(re.compile(rf"/invoices/{invoice.public_id}/#record-payment$"))
    page.locator("#record-payment button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("Payment recorded")
    go_home(page)
    # Everything done: the checklist is gone for good.
    expect(checklist(page)).to_have_count(0)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    state = PromptState.objects.get(user__email="grace@example.com", key="onboarding")
    assert state.completed_at is not None

    events = PromptEvent.objects.filter(user__email="grace@example.com", rule="onboarding")
    clicked = sorted(events.filter(kind="clicked").values_list("key", flat=True))
    completed = sorted(events.filter(kind="completed").values_list("key", flat=True))
    assert clicked == sorted(f"onboarding:{step}" for step in STEPS)
    assert completed == clicked

    # The owner's conversion report shows this run.
    page.goto("/prompts/report/")
    row = page.locator("[data-testid=report] tr[data-rule=onboarding]")
    expect(row.get_by_test_id("clicked")).to_have_text("6")
    expect(row.get_by_test_id("completed")).to_have_text("6")
    expect(row.get_by_test_id("shown")).to_have_text(re.compile(r"^[1-9]\d*$"))
