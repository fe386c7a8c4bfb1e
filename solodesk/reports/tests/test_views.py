"""The report page and its CSV: who sees what, the year picker, errors, query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from solodesk.reports.tests.helpers import client_with_project, entry, invoice, pay
from solodesk.reports.tests.test_selectors import BRUSSELS

URL = reverse("reports:yearly")
CSV_URL = reverse("reports:yearly_csv")
# Noon on 15 June 2026 in Brussels.
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


def _data(persona, *, name: str = "Acme", clients: int = 1, entries: int = 1) -> None:
    for number in range(clients):
        client, project = client_with_project(persona.workspace, name=f"{name} {number}")
        for index in range(entries):
            start = dt.datetime(2026, 1 + index % 12, 5, 9, tzinfo=dt.UTC)
            entry(project, persona.user, start, minutes=90)
        billed = invoice(client, persona.user, "1200.00", dt.date(2026, 2, 1))
        pay(billed, persona.user, "200.00", dt.date(2026, 3, 1))


@pytest.mark.parametrize("persona", ["owner", "member"])
def test_every_member_sees_the_whole_workspaces_report(request, owner, persona):
    _data(owner)
    viewer = request.getfixturevalue(persona)
    with time_machine.travel(NOW, tick=False):
        response = viewer.client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Report 2026" in body
    assert "Acme 0" in body
    assert "1.50 h" in body
    assert "€1,200.00" in body or "1,200.00" in body
    assert 'aria-current="page">Reports<' in body


def test_the_default_year_is_this_year_in_the_workspaces_time_zone(owner):
    # 23:30 on 31 December 2025 in Brussels is 22:30 UTC: still 2025 there and in UTC, but
    # at 23:30 UTC it is already 2026 in Brussels.
    with time_machine.travel(dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        response = owner.client.get(URL)
    assert response.context["report"].year == 2026


def test_a_strangers_data_never_appears(owner, stranger):
    _data(stranger, name="Secret")
    with time_machine.travel(NOW, tick=False):
        response = owner.client.get(URL, {"year": 2026})
        csv_body = owner.client.get(CSV_URL, {"year": 2026}).content.decode()
    body = response.content.decode()
    assert "Secret" not in body
    assert "Secret" not in csv_body
    assert response.context["report"].clients == []
    assert "No time tracked and nothing invoiced or paid in 2026." in body


def test_the_page_links_to_the_previous_and_next_years_with_data(owner):
    _, project = client_with_project(owner.workspace, name="Acme")
    entry(project, owner.user, dt.datetime(2024, 12, 31, 23, 30, tzinfo=BRUSSELS), minutes=30)
    with time_machine.travel(NOW, tick=False):
        response = owner.client.get(URL, {"year": 2025})
    body = response.content.decode()
    assert '<a href="?year=2024" rel="prev"' in body
    assert '<a href="?year=2026" rel="next"' in body
    assert [year for year in response.context["report"].years] == [2024, 2025, 2026]


@pytest.mark.parametrize("value", ["abc", "1800", "3000", "2026.5"])
def test_a_bad_year_is_a_form_error(owner, value):
    response = owner.client.get(URL, {"year": value})
    assert response.status_code == 400
    assert response.context["report"] is None
    assert "year" in response.context["form"].errors
    assert 'data-testid="year-error"' in response.content.decode()
    assert owner.client.get(CSV_URL, {"year": value}).status_code == 400


def test_the_csv_has_the_same_rows_as_the_page(owner):
    acme, project = client_with_project(owner.workspace, name="=Acme")
    entry(project, owner.user, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), minutes=90)
    pay(
        invoice(acme, owner.user, "100.00", dt.date(2026, 3, 2)),
        owner.user,
        "40.00",
        dt.date(2026, 4, 1),
    )
    with time_machine.travel(NOW, tick=False):
        response = owner.client.get(CSV_URL, {"year": 2026})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="report-2026.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "client",
            "hours",
            "billable_hours",
            "share_percent",
            "currency",
            "invoiced",
            "paid",
        ],
        ["'=Acme", "1.50", "1.50", "100.0", "EUR", "100.00", "40.00"],
        ["Total", "1.50", "1.50", "100.0", "EUR", "100.00", "40.00"],
    ]


def test_logged_out_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(("clients", "entries"), [(1, 1), (8, 12)])
def test_the_page_query_count_does_not_grow_with_data(
    owner, django_assert_num_queries, clients, entries
):
    _data(owner, clients=clients, entries=entries)
    # Queries: session, user (+ running timer), membership (+ workspace), the years with
    # data, the hours per client (monthly totals), the hours per month (daily totals), the
    # money (invoiced UNION ALL paid, by client and currency).
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(7):
        response = owner.client.get(URL, {"year": 2026})
    assert len(response.context["report"].clients) == clients
    # The CSV: the same.
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(7):
        owner.client.get(CSV_URL, {"year": 2026})
