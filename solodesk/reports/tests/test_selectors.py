"""The yearly report's figures: hours by local day across time zones, money per currency
net of credit notes, void and drafts left out, payments by their date, and nothing from
another workspace."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from solodesk.accounts.services import workspace_update
from solodesk.accounts.tasks import time_totals_recount_task
from solodesk.core.models import Job
from solodesk.invoicing import services
from solodesk.invoicing.tests.factories import make_draft
from solodesk.reports.selectors import CurrencyAmounts, report_yearly
from solodesk.reports.tests.helpers import (
    client_with_project,
    credit_note,
    entry,
    invoice,
    pay,
)

BRUSSELS = dt.timezone(dt.timedelta(hours=1))  # Brussels' offset in winter (CET)
TODAY = dt.date(2026, 6, 15)


def amounts(report, name):
    return {a.currency: a for a in next(r for r in report.clients if r.name == name).amounts}


def test_an_entry_at_23_30_on_31_december_counts_in_the_year_it_started_locally(owner):
    workspace = owner.workspace  # Europe/Brussels
    _, project = client_with_project(workspace, name="Acme")
    # 23:30 local on 31 December 2025 is 22:30 UTC: 2025, December.
    entry(project, owner.user, dt.datetime(2025, 12, 31, 23, 30, tzinfo=BRUSSELS), minutes=60)
    # 00:30 local on 1 January 2026 is still 31 December in UTC: 2026, January.
    entry(project, owner.user, dt.datetime(2026, 1, 1, 0, 30, tzinfo=BRUSSELS), minutes=30)

    report_2025 = report_yearly(workspace=workspace, year=2025, today=TODAY)
    report_2026 = report_yearly(workspace=workspace, year=2026, today=TODAY)

    assert [(r.name, r.seconds) for r in report_2025.clients] == [("Acme", 3600)]
    assert [m.seconds for m in report_2025.months] == [0] * 11 + [3600]
    assert [(r.name, r.seconds) for r in report_2026.clients] == [("Acme", 1800)]
    assert [m.seconds for m in report_2026.months] == [1800] + [0] * 11


def recount_time_totals(workspace) -> None:
    """Run the recount job a change of time zone queued (decision 0007), as a worker would."""
    jobs = Job.objects.filter(workspace=workspace, status=Job.Status.QUEUED)
    for job_id in jobs.values_list("pk", flat=True):
        time_totals_recount_task(job_id)


def test_a_change_of_time_zone_moves_the_entry_to_its_new_local_year(owner):
    workspace = owner.workspace
    _, project = client_with_project(workspace, name="Acme")
    entry(project, owner.user, dt.datetime(2025, 12, 31, 23, 30, tzinfo=BRUSSELS), minutes=60)
    workspace_update(workspace=workspace, time_zone="UTC")  # 22:30 on 31 Dec: still 2025
    recount_time_totals(workspace)
    assert report_yearly(workspace=workspace, year=2025, today=TODAY).seconds == 3600
    workspace_update(workspace=workspace, time_zone="Asia/Tokyo")  # 07:30 on 1 Jan 2026
    recount_time_totals(workspace)
    assert report_yearly(workspace=workspace, year=2025, today=TODAY).seconds == 0
    assert report_yearly(workspace=workspace, year=2026, today=TODAY).seconds == 3600


def test_hours_billable_hours_and_shares_per_client(owner, member):
    workspace = owner.workspace
    _, acme_site = client_with_project(workspace, name="Acme")
    _, globex = client_with_project(workspace, name="Globex")
    acme_app = client_with_project(workspace, name="unused")[1]
    acme_app.client = acme_site.client
    acme_app.save()
    day = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    entry(acme_site, owner.user, day, minutes=90)
    entry(acme_app, member.user, day, minutes=30, billable=False)  # a member's time counts
    entry(globex, owner.user, day + dt.timedelta(days=40), minutes=120, billable=False)

    report = report_yearly(workspace=workspace, year=2026, today=TODAY)

    assert [(r.name, r.seconds, r.billable_seconds, r.share) for r in report.clients] == [
        ("Acme", 7200, 5400, Decimal("50.0")),
        ("Globex", 7200, 0, Decimal("50.0")),
    ]
    assert (report.seconds, report.billable_seconds) == (14400, 5400)
    assert [(m.month, m.seconds, m.billable_seconds) for m in report.months[2:5]] == [
        (dt.date(2026, 3, 1), 7200, 5400),
        (dt.date(2026, 4, 1), 7200, 0),
        (dt.date(2026, 5, 1), 0, 0),
    ]


def test_invoiced_is_net_of_credit_notes_and_leaves_out_void_invoices_and_drafts(owner):
    workspace = owner.workspace
    acme, _ = client_with_project(workspace, name="Acme")
    user = owner.user
    invoice(acme, user, "1000.00", dt.date(2026, 2, 1), tax_rate="21")  # 1210.00
    credited = invoice(acme, user, "300.00", dt.date(2026, 3, 1))
    credit_note(credited, user, on=dt.date(2026, 4, 1))  # − 300.00
    voided = invoice(acme, user, "5000.00", dt.date(2026, 3, 5))
    services.invoice_void(invoice=voided, user=user)
    make_draft(workspace=workspace, user=user, client=acme, issue_date=dt.date(2026, 3, 9))
    # A credit note in 2027 for an invoice of 2026 lowers 2027, not 2026.
    late = invoice(acme, user, "200.00", dt.date(2026, 12, 31))
    credit_note(late, user, on=dt.date(2027, 1, 4))

    report_2026 = report_yearly(workspace=workspace, year=2026, today=TODAY)
    report_2027 = report_yearly(workspace=workspace, year=2027, today=TODAY)

    assert amounts(report_2026, "Acme")["EUR"].invoiced == Decimal("1410.00")
    assert amounts(report_2027, "Acme")["EUR"].invoiced == Decimal("-200.00")
    assert report_2026.totals == [
        CurrencyAmounts("EUR", invoiced=Decimal("1410.00"), paid=Decimal("0.00"))
    ]


def test_payments_count_on_their_date_not_their_invoices(owner):
    workspace = owner.workspace
    acme, _ = client_with_project(workspace, name="Acme")
    user = owner.user
    december = invoice(acme, user, "1000.00", dt.date(2025, 12, 10))
    pay(december, user, "400.00", dt.date(2025, 12, 20))
    pay(december, user, "600.00", dt.date(2026, 1, 15))  # paid in 2026
    invoice(acme, user, "250.00", dt.date(2026, 1, 5))

    report_2025 = report_yearly(workspace=workspace, year=2025, today=TODAY)
    report_2026 = report_yearly(workspace=workspace, year=2026, today=TODAY)

    assert amounts(report_2025, "Acme") == {
        "EUR": CurrencyAmounts("EUR", invoiced=Decimal("1000.00"), paid=Decimal("400.00"))
    }
    assert amounts(report_2026, "Acme") == {
        "EUR": CurrencyAmounts("EUR", invoiced=Decimal("250.00"), paid=Decimal("600.00"))
    }
    # Nothing invoiced, paid or tracked: the client has no row in 2027.
    assert report_yearly(workspace=workspace, year=2027, today=TODAY).clients == []


def test_a_credit_note_counts_in_the_year_it_is_issued(owner):
    workspace = owner.workspace
    acme, _ = client_with_project(workspace, name="Acme")
    user = owner.user
    billed = invoice(acme, user, "500.00", dt.date(2025, 11, 3))
    credit_note(billed, user, on=dt.date(2026, 2, 1))
    report_2025 = report_yearly(workspace=workspace, year=2025, today=TODAY)
    report_2026 = report_yearly(workspace=workspace, year=2026, today=TODAY)
    assert amounts(report_2025, "Acme")["EUR"].invoiced == Decimal("500.00")
    assert amounts(report_2026, "Acme")["EUR"] == CurrencyAmounts(
        "EUR", invoiced=Decimal("-500.00"), paid=Decimal("0.00")
    )


def test_currencies_are_never_added_together(owner):
    workspace = owner.workspace
    user = owner.user
    acme, _ = client_with_project(workspace, name="Acme", currency="EUR")
    globex, _ = client_with_project(workspace, name="Globex", currency="USD")
    invoice(acme, user, "100.00", dt.date(2026, 1, 10))
    pay(invoice(globex, user, "70.00", dt.date(2026, 1, 11)), user, "70.00", dt.date(2026, 2, 1))
    acme.currency = "USD"  # the client now pays in dollars
    acme.save()
    invoice(acme, user, "30.00", dt.date(2026, 5, 1))

    report = report_yearly(workspace=workspace, year=2026, today=TODAY)

    assert amounts(report, "Acme") == {
        "EUR": CurrencyAmounts("EUR", Decimal("100.00"), Decimal("0.00")),
        "USD": CurrencyAmounts("USD", Decimal("30.00"), Decimal("0.00")),
    }
    assert [r.currency for r in next(r for r in report.clients if r.name == "Acme").amounts] == [
        "EUR",
        "USD",
    ]
    assert report.totals == [
        CurrencyAmounts("EUR", Decimal("100.00"), Decimal("0.00")),
        CurrencyAmounts("USD", Decimal("100.00"), Decimal("70.00")),
    ]


def test_another_workspaces_time_and_money_are_never_counted(owner, stranger):
    day = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    mine, my_project = client_with_project(owner.workspace, name="Mine")
    theirs, their_project = client_with_project(stranger.workspace, name="Theirs")
    entry(my_project, owner.user, day, minutes=60)
    entry(their_project, stranger.user, day, minutes=600)
    invoice(mine, owner.user, "10.00", dt.date(2026, 3, 2))
    pay(
        invoice(theirs, stranger.user, "999.00", dt.date(2026, 3, 2)),
        stranger.user,
        "999.00",
        dt.date(2026, 3, 3),
    )

    report = report_yearly(workspace=owner.workspace, year=2026, today=TODAY)

    assert [r.name for r in report.clients] == ["Mine"]
    assert report.seconds == 3600
    assert report.totals == [CurrencyAmounts("EUR", Decimal("10.00"), Decimal("0.00"))]


def test_clients_with_money_but_no_time_have_a_row_after_those_with_time(owner):
    workspace = owner.workspace
    _, project = client_with_project(workspace, name="Zeta")
    alpha, _ = client_with_project(workspace, name="Alpha")
    entry(project, owner.user, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), minutes=15)
    invoice(alpha, owner.user, "10.00", dt.date(2026, 3, 2))
    report = report_yearly(workspace=workspace, year=2026, today=TODAY)
    assert [(r.name, r.seconds, r.share) for r in report.clients] == [
        ("Zeta", 900, Decimal("100.0")),
        ("Alpha", 0, Decimal("0.0")),
    ]


def test_the_years_run_from_the_first_to_the_last_year_with_data_and_include_this_year(owner):
    workspace = owner.workspace
    acme, project = client_with_project(workspace, name="Acme")
    assert report_yearly(workspace=workspace, year=2026, today=TODAY).years == [2026]
    entry(project, owner.user, dt.datetime(2023, 5, 2, 9, tzinfo=dt.UTC), minutes=15)
    entry(project, owner.user, dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC), minutes=15)
    invoice(acme, owner.user, "10.00", dt.date(2022, 3, 1))  # billed before any time
    report = report_yearly(workspace=workspace, year=2026, today=TODAY)
    assert report.years == [2022, 2023, 2024, 2025, 2026, 2027]
    assert (report.previous_year, report.next_year) == (2025, 2027)
    oldest = report_yearly(workspace=workspace, year=2022, today=TODAY)
    assert (oldest.previous_year, oldest.next_year) == (None, 2023)


def test_a_year_out_of_range_is_refused(owner):
    with pytest.raises(ValueError):
        report_yearly(workspace=owner.workspace, year=10000, today=TODAY)


def _fill(owner, clients: int, entries_per_project: int) -> None:
    user = owner.user
    for number in range(clients):
        client, project = client_with_project(owner.workspace, name=f"Client {number}")
        for index in range(entries_per_project):
            entry(project, user, dt.datetime(2026, 1 + index % 12, 3, 9, tzinfo=dt.UTC), minutes=30)
        billed = invoice(client, user, "100.00", dt.date(2026, 2, 1 + number))
        pay(billed, user, "40.00", dt.date(2026, 3, 1))
        credit_note(invoice(client, user, "5.00", dt.date(2026, 2, 2)), user, dt.date(2026, 4, 1))


@pytest.mark.parametrize(("clients", "entries_per_project"), [(1, 1), (6, 15)])
def test_the_report_takes_four_queries_whatever_the_amount_of_data(
    owner, django_assert_num_queries, zeal, clients, entries_per_project
):
    _fill(owner, clients, entries_per_project)
    # Queries: the years with data, the hours per client (monthly totals), the hours per
    # month (daily totals), the money (invoiced UNION ALL paid, by client and currency).
    with zeal(), django_assert_num_queries(4):
        report = report_yearly(workspace=owner.workspace, year=2026, today=TODAY)
    assert len(report.clients) == clients
    assert report.seconds == clients * entries_per_project * 1800
    assert report.totals[0].invoiced == Decimal("100.00") * clients
