"""The client list's figures: hours this year, unbilled money, receivables per currency
and the last day tracked — exact values, the same as the dashboard and the receivables
compute them, and a query count that stays the same at 3 and 50 clients with data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from solodesk.clients import selectors
from solodesk.dashboard.selectors import dashboard_unbilled
from solodesk.invoicing import services
from solodesk.invoicing.selectors import invoice_receivables
from solodesk.invoicing.tests.factories import (
    line,
    make_client,
    make_entry,
    make_issued,
    make_project,
)

D = Decimal
pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 4, 15, 10, tzinfo=dt.UTC)
LIST_URL = reverse("clients:list")


def _at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


@pytest.fixture
def acme(owner, stranger):
    """Acme (EUR, 100/h): an hourly project (the client's rate, rounded up to 15 minutes
    per entry) and a fixed-fee one; an invoice in EUR, partly paid, and one in USD; time
    last year and this year. A stranger's client with time and an invoice too."""
    workspace, user = owner.workspace, owner.user
    client = make_client(workspace, name="Acme", currency="EUR", default_hourly_rate=D("100"))
    hourly = make_project(
        client, name="Site", hourly_rate=None, time_rounding_mode="up", time_rounding_minutes=15
    )
    fixed = make_project(client, name="Audit", billing_method="fixed", fixed_fee=D("900"))
    make_entry(project=hourly, user=user, start=_at("2025-12-20"), minutes=60)
    make_entry(project=hourly, user=user, start=_at("2026-03-10"), minutes=80)  # bills 90
    make_entry(project=hourly, user=user, start=_at("2026-03-11"), minutes=30, is_billable=False)
    make_entry(project=fixed, user=user, start=_at("2026-04-01", 22), minutes=30)  # 2 April
    eur = make_issued(workspace=workspace, user=user, client=client)  # 121.00
    services.payment_record(
        invoice=eur, user=user, amount=D("21.00"), date=dt.date(2026, 3, 20), method="bank_transfer"
    )
    client.currency = "USD"
    client.save()
    make_issued(
        workspace=workspace,
        user=user,
        client=client,
        lines=[line(unit_price="10.00", tax_rate="0")],
    )
    client.currency = "EUR"
    client.save()
    make_client(workspace, name="Quiet")
    theirs = make_client(stranger.workspace, name="Theirs", default_hourly_rate=D("50"))
    make_entry(
        project=make_project(theirs), user=stranger.user, start=_at("2026-04-10"), minutes=600
    )
    make_issued(workspace=stranger.workspace, user=stranger.user, client=theirs)
    return client


@time_machine.travel(NOW, tick=False)
def test_the_figures_of_each_client_are_exact(owner, acme):
    clients = selectors.client_list_figures(
        workspace=owner.workspace, clients=selectors.client_list(workspace=owner.workspace)
    )

    figures = {client.name: client.figures for client in clients}
    assert figures["Acme"].year_seconds == (80 + 30 + 30) * 60  # 2025's hour is not counted
    assert figures["Acme"].year_hours == D("2.3")
    unbilled = figures["Acme"].unbilled
    # 60 + 80 minutes rounded up per entry to 15: 60 + 90 = 2.5 h × 100; the fixed fee's
    # half hour has no price.
    assert (unbilled.currency, unbilled.amount) == ("EUR", D("250.00"))
    assert (unbilled.seconds, unbilled.unpriced_seconds) == ((60 + 80 + 30) * 60, 30 * 60)
    assert figures["Acme"].unpriced_hours == D("0.5")
    assert figures["Acme"].receivables == [
        selectors.Receivable(currency="EUR", outstanding=D("100.00")),
        selectors.Receivable(currency="USD", outstanding=D("10.00")),
    ]
    assert figures["Acme"].last_tracked_on == dt.date(2026, 4, 2)  # Brussels time
    assert figures["Quiet"] == selectors.ClientFigures(
        year_seconds=0, unbilled=None, receivables=[], last_tracked_on=None
    )


@time_machine.travel(NOW, tick=False)
def test_unbilled_money_and_receivables_add_up_to_the_dashboards(owner, acme):
    clients = selectors.client_list_figures(
        workspace=owner.workspace, clients=selectors.client_list(workspace=owner.workspace)
    )

    [dashboard] = dashboard_unbilled(workspace=owner.workspace)
    assert dashboard.amount == sum(
        (c.figures.unbilled.amount for c in clients if c.figures.unbilled), D(0)
    )
    owed = {
        row["currency"]: row["outstanding"]
        for row in invoice_receivables(workspace=owner.workspace)
    }
    listed: dict[str, Decimal] = {}
    for client in clients:
        for receivable in client.figures.receivables:
            listed[receivable.currency] = (
                listed.get(receivable.currency, D(0)) + receivable.outstanding
            )
    assert listed == owed


@time_machine.travel(NOW, tick=False)
def test_the_page_shows_the_figures_and_not_the_strangers(owner, acme):
    response = owner.client.get(LIST_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="year-hours">2.3 h<' in html
    assert "250.00 EUR" in html
    assert "+ 0.5 h unpriced" in html
    assert "100.00 EUR<br>10.00 USD" in html
    assert 'data-testid="last-tracked">2026-04-02<' in html
    assert "Theirs" not in html


@pytest.mark.parametrize("rows", [3, 50])
@time_machine.travel(NOW, tick=False)
def test_the_query_count_does_not_grow_with_clients_or_their_data(
    owner, rows, django_assert_num_queries
):
    workspace, user = owner.workspace, owner.user
    for index in range(rows):
        client = make_client(workspace, default_hourly_rate=D("80"))
        for project in (make_project(client), make_project(client, billing_method="fixed")):
            make_entry(project=project, user=user, start=_at("2026-04-01"), minutes=30 + index)
            make_entry(project=project, user=user, start=_at("2025-04-01"), minutes=45)
        if index % 10 == 0:
            make_issued(workspace=workspace, user=user, client=client)

    # 1 session, 2 user joined with running timer, 3 membership joined with workspace,
    # 4 COUNT of the clients, 5 the page of clients with their active project count,
    # 6 their latest entry (probed per project), hours this year and receivables per
    # currency (one UNION ALL), 7 their projects' unbilled time.
    with django_assert_num_queries(7):
        response = owner.client.get(LIST_URL)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(rows, 50)
    assert all(c.figures.unbilled for c in response.context["page"].object_list)
