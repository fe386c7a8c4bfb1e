"""GET /api/v1/reports/yearly: the report's figures as JSON."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from solodesk.reports.tests.helpers import client_with_project, credit_note, entry, invoice, pay
from solodesk.reports.tests.test_selectors import BRUSSELS

URL = "/api/v1/reports/yearly"
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


def test_the_yearly_report_as_json(owner):
    user = owner.user
    acme, project = client_with_project(owner.workspace, name="Acme", currency="EUR")
    globex, _ = client_with_project(owner.workspace, name="Globex", currency="USD")
    entry(project, user, dt.datetime(2025, 12, 31, 23, 30, tzinfo=BRUSSELS), minutes=60)
    entry(
        project, user, dt.datetime(2026, 1, 1, 0, 30, tzinfo=BRUSSELS), minutes=90, billable=False
    )
    pay(invoice(acme, user, "1000.00", dt.date(2026, 1, 10)), user, "250.50", dt.date(2026, 2, 1))
    credit_note(invoice(acme, user, "100.00", dt.date(2026, 1, 12)), user, dt.date(2026, 2, 2))
    invoice(globex, user, "70.00", dt.date(2026, 5, 1))

    with time_machine.travel(NOW, tick=False):
        response = owner.api().get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2026
    assert body["time_zone"] == "Europe/Brussels"
    assert (body["years"], body["previous_year"], body["next_year"]) == ([2025, 2026], 2025, None)
    assert (body["seconds"], body["billable_seconds"]) == (5400, 0)
    assert (body["hours"], body["billable_hours"]) == ("1.50", "0.00")
    assert body["months"][0] == {
        "month": "2026-01",
        "seconds": 5400,
        "billable_seconds": 0,
        "hours": "1.50",
    }
    assert [month["month"] for month in body["months"]][-1] == "2026-12"
    assert body["clients"] == [
        {
            "id": str(acme.public_id),
            "name": "Acme",
            "is_archived": False,
            "seconds": 5400,
            "billable_seconds": 0,
            "hours": "1.50",
            "billable_hours": "0.00",
            "share_percent": "100.00",
            "amounts": [
                {
                    "currency": "EUR",
                    "invoiced": "1000.00",
                    "paid": "250.50",
                }
            ],
        },
        {
            "id": str(globex.public_id),
            "name": "Globex",
            "is_archived": False,
            "seconds": 0,
            "billable_seconds": 0,
            "hours": "0.00",
            "billable_hours": "0.00",
            "share_percent": "0.00",
            "amounts": [{"currency": "USD", "invoiced": "70.00", "paid": "0.00"}],
        },
    ]
    assert body["totals"] == [
        {"currency": "EUR", "invoiced": "1000.00", "paid": "250.50"},
        {"currency": "USD", "invoiced": "70.00", "paid": "0.00"},
    ]
    last_year = owner.api().get(URL, {"year": 2025}).json()
    assert [(c["name"], c["seconds"]) for c in last_year["clients"]] == [("Acme", 3600)]


def test_a_member_gets_the_same_report_and_a_stranger_none_of_it(owner, member, stranger):
    _, project = client_with_project(owner.workspace, name="Acme")
    entry(project, owner.user, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), minutes=60)
    with time_machine.travel(NOW, tick=False):
        mine = owner.api().get(URL).json()
        members = member.api().get(URL).json()
        strangers = stranger.api().get(URL).json()
    assert members == mine
    assert strangers["clients"] == [] and strangers["seconds"] == 0


@pytest.mark.parametrize("value", ["abc", "1899", "3000", ""])
def test_a_bad_year_is_a_422_naming_the_field(owner, value):
    response = owner.api().get(URL, {"year": value})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["year"]


def test_without_a_token_it_is_a_401(client):
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(("clients", "entries"), [(1, 1), (8, 12)])
def test_the_query_count_does_not_grow_with_data(
    owner, django_assert_num_queries, clients, entries
):
    user = owner.user
    for number in range(clients):
        client, project = client_with_project(owner.workspace, name=f"Client {number}")
        for index in range(entries):
            entry(project, user, dt.datetime(2026, 1 + index % 12, 5, 9, tzinfo=dt.UTC), minutes=30)
        pay(invoice(client, user, "10.00", dt.date(2026, 2, 1)), user, "4.00", dt.date(2026, 3, 1))
    api = owner.api()
    api.get(URL)  # the token's last-used time is written at most once a minute
    # Queries: the token (+ workspace, user), the years with data, the hours per client
    # (monthly totals), the hours per month (daily totals), the money (invoiced UNION ALL
    # paid, by client and currency).
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(5):
        body = api.get(URL, {"year": 2026}).json()
    assert len(body["clients"]) == clients
