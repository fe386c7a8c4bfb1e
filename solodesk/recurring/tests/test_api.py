"""/api/v1/recurring-invoices: create with lines, list, detail with runs, patch, delete,
pause and resume; field errors as JSON; a stranger's profile is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from solodesk.recurring import services
from solodesk.recurring.models import RecurringProfile, RecurringRun
from solodesk.recurring.tests.conftest import make_profile
from solodesk.tests.factories import ClientFactory, ProjectFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/recurring-invoices"


def test_create_returns_the_profile_with_lines_as_decimal_strings(owner):
    client = ClientFactory(workspace=owner.workspace)
    project = ProjectFactory(client=client)
    response = owner.api().post(
        URL,
        {
            "client_id": str(client.public_id),
            "name": "Retainer",
            "frequency": "quarterly",
            "day_of_month": "last",
            "start_date": "2026-01-01",
            "occurrences": 4,
            "action": "issue_and_send",
            "bill_time": True,
            "project_ids": [str(project.public_id)],
            "lines": [
                {
                    "description": "Retainer",
                    "quantity": "1",
                    "unit": "pieces",
                    "unit_price": "1500.50",
                    "tax_rate": "21",
                }
            ],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["day_of_month"] == "last"
    assert body["next_period_start"] == "2026-01-31"
    assert body["lines"] == [
        {
            "description": "Retainer",
            "quantity": "1.00",
            "unit": "pieces",
            "unit_price": "1500.50",
            "tax_rate": "21.00",
        }
    ]
    assert body["project_ids"] == [str(project.public_id)]
    assert (body["runs"], body["activity"][0]["action"]) == ([], "created")


def test_field_errors_are_json_by_field(owner, stranger):
    client = ClientFactory(workspace=owner.workspace)
    base = {"client_id": str(client.public_id), "name": "X", "start_date": "2026-01-01"}
    cases = [
        ({**base, "day_of_month": 30}, "day_of_month"),
        (
            {
                **base,
                "end_date": "2025-01-01",
                "lines": [{"description": "a", "quantity": "1", "unit_price": "1"}],
            },
            "end_date",
        ),
        (base, "lines"),
        (
            {**base, "client_id": str(ClientFactory(workspace=stranger.workspace).public_id)},
            "client_id",
        ),
        ({**base, "frequency": "daily"}, "frequency"),
    ]
    for payload, field in cases:
        response = owner.api().post(URL, payload, content_type="application/json")
        assert response.status_code in (400, 422), payload
        assert field in response.json()["errors"], response.json()
    assert not RecurringProfile.objects.exists()


@pytest.mark.parametrize("count", [3, 20])
def test_list_runs_a_fixed_number_of_queries(owner, count, django_assert_num_queries):
    client = ClientFactory(workspace=owner.workspace)
    for n in range(count):
        make_profile(owner, client=client, name=f"P{n}")
    # Queries: token (+ workspace, user, timer), COUNT, one page of profiles (+ client, run
    # counts).
    with django_assert_num_queries(3):
        response = owner.api().get(URL)
    assert response.status_code == 200
    assert (len(response.json()["items"]), response.json()["count"]) == (count, count)


@pytest.mark.parametrize("weeks", [3, 20])
def test_detail_with_runs_runs_a_fixed_number_of_queries(
    owner, run_broker, weeks, django_assert_num_queries
):
    profile = make_profile(owner, frequency="weekly")
    day = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC) + dt.timedelta(weeks=weeks - 1)
    with time_machine.travel(day, tick=False):
        services.recurring_runs_schedule()
    for run_id in RecurringRun.objects.values_list("pk", flat=True):
        services.recurring_run_execute(run_id=run_id)
    # Queries: token (+ workspace, user, timer), profile (+ client, author), lines,
    # projects, runs (+ invoice), activity (+ actor, invoice).
    with django_assert_num_queries(6):
        response = owner.api().get(f"{URL}/{profile.public_id}")
    body = response.json()
    assert len(body["runs"]) == weeks
    assert body["runs"][0]["invoice_id"] is not None
    assert body["runs"][-1]["period_start"] == "2026-01-01"


def test_patch_pause_resume_and_delete(owner, run_broker):
    profile = make_profile(owner)
    api = owner.api()
    response = api.patch(
        f"{URL}/{profile.public_id}",
        {
            "name": "Big retainer",
            "lines": [{"description": "Big", "quantity": "2", "unit_price": "10.00"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["lines"][0]["quantity"]) == (
        "Big retainer",
        "2.00",
    )
    assert api.post(f"{URL}/{profile.public_id}/pause").json()["is_paused"] is True
    assert api.post(f"{URL}/{profile.public_id}/pause").status_code == 400
    assert api.post(f"{URL}/{profile.public_id}/resume").json()["is_paused"] is False
    assert api.delete(f"{URL}/{profile.public_id}").status_code == 204
    assert not RecurringProfile.objects.exists()


def test_a_stranger_gets_404_and_changes_nothing(owner, stranger):
    profile = make_profile(owner)
    before = RecurringProfile.objects.values().get(pk=profile.pk)
    api = stranger.api()
    path = f"{URL}/{profile.public_id}"
    assert api.get(path).status_code == 404
    assert api.patch(path, {"name": "x"}, content_type="application/json").status_code == 404
    assert api.delete(path).status_code == 404
    assert api.post(f"{path}/pause").status_code == 404
    assert api.post(f"{path}/resume").status_code == 404
    assert api.get(URL).json()["items"] == []
    assert RecurringProfile.objects.values().get(pk=profile.pk) == before
