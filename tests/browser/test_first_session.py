"""A new user's first session, in a real browser: sign up, add a client and a project, time
some work with the timer, and find the entry in the week view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from solodesk.accounts.models import Membership, Workspace
from solodesk.timetracking.models import RunningTimer, TimeEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def select_option_containing(select, text: str) -> None:
    """Pick the option whose label contains `text` (labels carry the client's name too)."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value)


def test_sign_up_track_time_and_see_it_in_the_week(page):
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password1]", "a long enough passphrase")
    page.fill("input[name=password2]", "a long enough passphrase")
    page.fill("input[name=business_name]", "Ada Consulting")
    page.select_option("select[name=default_currency]", "GBP")
    page.select_option("select[name=time_zone]", "Europe/London")
    page.locator("main form button[type=submit]").click()
    # Sign-up lands on the dashboard.
    expect(page).to_have_url(re.compile(r"/$"))
    workspace = Workspace.objects.get(name="Ada Consulting")
    assert workspace.default_currency == "GBP"
    assert Membership.objects.get(workspace=workspace).role == "owner"

    page.goto("/clients/new/")
    page.fill("main input[name=name]", "Acme Ltd")
    page.fill("main input[name=email]", "billing@acme.example")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Acme Ltd")

    page.goto("/projects/new/")
    select_option_containing(page.locator("main select[name=client]"), "Acme Ltd")
    page.fill("main input[name=name]", "Website relaunch")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Website relaunch")

    page.goto("/time/week/")
    start_form = page.locator("#start-timer")
    select_option_containing(start_form.locator("select[name=project]"), "Website relaunch")
    start_form.locator("input[name=description]").fill("Wireframes")
    start_form.locator("button[type=submit]").click()
    timer = page.get_by_test_id("timer")
    expect(timer).to_contain_text("Website relaunch")
    # The elapsed time ticks in the header without a reload.
    expect(timer.locator(".elapsed")).to_have_text(re.compile(r"0:00:0[1-9]"), timeout=5_000)
    assert RunningTimer.objects.filter(user__email="ada@example.com").exists()

    page.get_by_test_id("timer-stop").click()
    expect(page.get_by_test_id("timer")).to_contain_text("No timer running")
    entry = TimeEntry.objects.get(user__email="ada@example.com")
    assert entry.description == "Wireframes"
    assert entry.duration_seconds >= 1

    page.goto("/time/week/")
    expect(page.locator("main")).to_contain_text("Wireframes")
    expect(page.locator("main")).to_contain_text("Website relaunch")


def test_header_notices_a_timer_stopped_elsewhere_without_a_reload(page, live_server):
    from solodesk.tests.factories import (
        DEFAULT_PASSWORD,
        MembershipFactory,
        ProjectFactory,
        RunningTimerFactory,
        UserFactory,
    )
    from solodesk.timetracking.services import timer_stop

    user = UserFactory(email="grace@example.com")
    membership = MembershipFactory(user=user)
    project = ProjectFactory(client__workspace=membership.workspace, name="Compiler")
    RunningTimerFactory(user=user, project=project)

    page.goto("/accounts/login/")
    page.fill("input[name=login]", "grace@example.com")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").click()
    timer = page.get_by_test_id("timer")
    expect(timer).to_contain_text("Compiler")

    timer_stop(user=user)  # as if from the phone or the API
    expect(page.get_by_test_id("timer")).to_contain_text("No timer running", timeout=12_000)
    assert TimeEntry.objects.filter(user=user, project=project).count() == 1
