"""Recurring pages: owner and member may use them, a stranger gets 404 and changes nothing,
and each page runs a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from solodesk.recurring import services
from solodesk.recurring.models import RecurringProfile, RecurringRun
from solodesk.recurring.tests.conftest import make_profile
from solodesk.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _profiles_with_runs(owner, count: int) -> RecurringProfile:
    client = ClientFactory(workspace=owner.workspace)
    profiles = [make_profile(owner, client=client, name=f"Retainer {n}") for n in range(count)]
    with time_machine.travel(dt.datetime(2026, 1, 1 + count, 12, tzinfo=dt.UTC), tick=False):
        services.recurring_runs_schedule()
    for run_id in RecurringRun.objects.values_list("pk", flat=True):
        services.recurring_run_execute(run_id=run_id)
    return profiles[0]


@pytest.mark.parametrize("count", [3, 20])
def test_the_list_runs_a_fixed_number_of_queries(
    owner, run_broker, count, django_assert_num_queries
):
    _profiles_with_runs(owner, count)
    # Queries: session, user (+ timer), membership (+ workspace), COUNT (the list
    # paginates), one page of profiles (+ client, counts).
    with django_assert_num_queries(5):
        response = owner.client.get(reverse("recurring:list"))
    assert response.status_code == 200
    assert response.content.decode().count('href="/recurring/') >= count


@pytest.mark.parametrize("weeks", [3, 30])
def test_the_profile_page_runs_a_fixed_number_of_queries(
    owner, run_broker, weeks, django_assert_num_queries
):
    profile = make_profile(owner, frequency="weekly")
    with time_machine.travel(
        dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC) + dt.timedelta(weeks=weeks - 1), tick=False
    ):
        services.recurring_runs_schedule()
    for run_id in RecurringRun.objects.values_list("pk", flat=True):
        services.recurring_run_execute(run_id=run_id)
    # Queries: session, user (+ timer), membership (+ workspace), profile (+ client,
    # author), lines, projects, runs (+ invoice), activity (+ actor, invoice).
    with django_assert_num_queries(8):
        response = owner.client.get(reverse("recurring:detail", args=[profile.public_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<span class="badge ok">done</span>') == min(weeks, 50)
    assert "Next invoice" in page


def test_a_member_creates_a_profile_with_lines_through_the_form(member):
    client = ClientFactory(workspace=member.workspace)
    data = {
        "client": str(client.public_id),
        "name": "Hosting",
        "frequency": "monthly",
        "day_of_month": "31",
        "start_date": "2026-01-01",
        "action": "draft",
        "discount_type": "none",
        "discount_value": "0",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Hosting",
        "lines-0-quantity": "1",
        "lines-0-unit": "pieces",
        "lines-0-unit_price": "49.00",
        "lines-0-tax_rate": "21",
    }
    response = member.client.post(reverse("recurring:new"), data)
    profile = RecurringProfile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("recurring:detail", args=[profile.public_id])
    assert (profile.day_of_month, profile.next_period_start) == (31, dt.date(2026, 1, 31))
    assert [line.description for line in profile.lines.all()] == ["Hosting"]


def test_the_form_shows_errors_beside_the_fields(owner):
    client = ClientFactory(workspace=owner.workspace)
    response = owner.client.post(
        reverse("recurring:new"),
        {
            "client": str(client.public_id),
            "name": "Nothing",
            "frequency": "monthly",
            "day_of_month": "1",
            "start_date": "2026-02-01",
            "end_date": "2026-01-01",
            "action": "draft",
            "discount_type": "none",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert not RecurringProfile.objects.exists()


def test_pause_resume_and_edit_through_the_pages(owner, run_broker):
    profile = make_profile(owner)
    owner.client.post(reverse("recurring:pause", args=[profile.public_id]))
    profile.refresh_from_db()
    assert profile.is_paused
    owner.client.post(reverse("recurring:resume", args=[profile.public_id]))
    profile.refresh_from_db()
    assert not profile.is_paused
    page = owner.client.get(reverse("recurring:edit", args=[profile.public_id]))
    assert page.status_code == 200
    assert 'value="Retainer"' in page.content.decode()


def test_a_stranger_gets_404_everywhere_and_changes_nothing(owner, stranger, run_broker):
    profile = _profiles_with_runs(owner, 1)
    run = profile.runs.get()
    before = RecurringProfile.objects.values().get(pk=profile.pk)
    for name in ("detail", "edit"):
        assert (
            stranger.client.get(reverse(f"recurring:{name}", args=[profile.public_id])).status_code
            == 404
        )
    for name in ("pause", "resume", "delete", "edit"):
        response = stranger.client.post(reverse(f"recurring:{name}", args=[profile.public_id]))
        assert response.status_code == 404, name
    retry = reverse("recurring:run_retry", args=[profile.public_id, run.public_id])
    assert stranger.client.post(retry).status_code == 404
    assert RecurringProfile.objects.values().get(pk=profile.pk) == before
    assert "Retainer" not in stranger.client.get(reverse("recurring:list")).content.decode()


def test_deleting_keeps_the_invoices(owner, run_broker):
    profile = _profiles_with_runs(owner, 1)
    invoice = profile.runs.get().invoice
    response = owner.client.post(reverse("recurring:delete", args=[profile.public_id]))
    assert response.status_code == 302
    assert not RecurringProfile.objects.exists()
    invoice.refresh_from_db()
    assert invoice.activities.filter(action="recurring_created").exists()
