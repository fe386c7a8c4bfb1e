"""The dashboard's aggregates: exact money per currency, hours in the workspace's time zone,
quick starts, and the same query count whatever the amount of data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solodesk.accounts.models import TimeRounding
from solodesk.dashboard.selectors import (
    dashboard_hours,
    dashboard_quick_start_projects,
    dashboard_revenue,
    dashboard_scheduler_health,
    dashboard_summary,
    dashboard_unbilled,
    month_series,
    months_back,
)
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.tests.factories import line, make_client, make_entry, make_project
from solodesk.tests.factories import (
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    WorkspaceFactory,
)

BRUSSELS = ZoneInfo("Europe/Brussels")


# --- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "back", "expected"),
    [
        (dt.date(2026, 3, 11), 0, dt.date(2026, 3, 1)),
        (dt.date(2026, 3, 11), 2, dt.date(2026, 1, 1)),
        (dt.date(2026, 3, 11), 3, dt.date(2025, 12, 1)),
        (dt.date(2026, 3, 11), 11, dt.date(2025, 4, 1)),
        (dt.date(2026, 12, 31), 11, dt.date(2026, 1, 1)),
        (dt.date(2026, 1, 1), 12, dt.date(2025, 1, 1)),
    ],
)
def test_months_back(day, back, expected):
    assert months_back(day, back) == expected


def test_the_month_series_ends_with_this_month():
    series = month_series(dt.date(2026, 3, 11))

    assert len(series) == 12
    assert series[0] == dt.date(2025, 4, 1)
    assert series[-1] == dt.date(2026, 3, 1)


# --- unbilled time: the same amount as "invoice from time" ----------------------------------

ROUNDING = st.sampled_from(
    [
        ("", None, ""),  # the workspace's rule
        (TimeRounding.NONE, 15, TimeRounding.PER_ENTRY),
        (TimeRounding.UP, 6, TimeRounding.PER_ENTRY),
        (TimeRounding.UP, 15, TimeRounding.PER_LINE),
        (TimeRounding.NEAREST, 15, TimeRounding.PER_ENTRY),
        (TimeRounding.NEAREST, 30, TimeRounding.PER_LINE),
        (TimeRounding.UP, 1, TimeRounding.PER_ENTRY),
    ]
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    durations=st.lists(st.integers(min_value=1, max_value=6 * 3600), min_size=1, max_size=6),
    other_durations=st.lists(st.integers(min_value=1, max_value=3 * 3600), max_size=4),
    rate=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2),
    project_rounding=ROUNDING,
    workspace_rounding=st.sampled_from(
        [
            (TimeRounding.NONE, 15, TimeRounding.PER_ENTRY),
            (TimeRounding.UP, 15, TimeRounding.PER_ENTRY),
            (TimeRounding.NEAREST, 6, TimeRounding.PER_LINE),
        ]
    ),
)
def test_unbilled_amount_is_what_invoicing_the_time_would_bill(
    durations, other_durations, rate, project_rounding, workspace_rounding
):
    with transaction.atomic():
        mode, minutes, scope = workspace_rounding
        workspace = WorkspaceFactory(
            time_rounding_mode=mode, time_rounding_minutes=minutes, time_rounding_scope=scope
        )
        user = UserFactory()
        client = make_client(workspace, default_hourly_rate=Decimal("70.00"))
        mode, minutes, scope = project_rounding
        project = make_project(
            client,
            hourly_rate=rate,
            time_rounding_mode=mode,
            time_rounding_minutes=minutes,
            time_rounding_scope=scope,
        )
        # A second project at the client's rate, with the workspace's rounding rule.
        second = make_project(client, hourly_rate=None)
        start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
        for index, seconds in enumerate(durations):
            make_entry(
                project=project, user=user, start=start + dt.timedelta(days=index), seconds=seconds
            )
        for index, seconds in enumerate(other_durations):
            make_entry(
                project=second, user=user, start=start + dt.timedelta(days=index), seconds=seconds
            )

        [unbilled] = dashboard_unbilled(workspace=workspace)
        invoice = invoicing.invoice_create_from_time(
            workspace=workspace, user=user, client=client, date_from=None, date_to=None
        )

        assert unbilled.currency == "EUR"
        assert unbilled.amount == invoice.subtotal
        assert unbilled.seconds == sum(durations) + sum(other_durations)
        assert unbilled.entry_count == len(durations) + len(other_durations)
        assert unbilled.unpriced_seconds == 0
        assert dashboard_unbilled(workspace=workspace) == []  # now all on the draft
        transaction.set_rollback(True)


def test_unbilled_time_per_currency_with_what_has_no_price(owner):
    workspace, user = owner.workspace, owner.user
    euro = make_client(workspace, currency="EUR", default_hourly_rate=Decimal("80.00"))
    pound = make_client(workspace, currency="GBP", default_hourly_rate=None)
    hourly = make_project(euro, hourly_rate=Decimal("100.00"))
    client_rate = make_project(euro, hourly_rate=None)  # 80.00 from the client
    fixed = make_project(euro, billing_method="fixed", fixed_fee=Decimal("5000.00"))
    non_billable = make_project(euro, billing_method="non_billable")
    no_rate = make_project(pound, hourly_rate=None)
    gbp_hourly = make_project(pound, hourly_rate=Decimal("60.00"))
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

    def entry(project, minutes, **kwargs):
        make_entry(project=project, user=user, start=start, minutes=minutes, **kwargs)

    entry(hourly, 90)  # 1.5 h × 100 = 150.00
    entry(hourly, 30, is_billable=False)  # not billable
    entry(client_rate, 20)  # 0.333 h × 80 = 26.64
    entry(fixed, 60)  # priced by its fee: not in the amount
    entry(non_billable, 60)
    entry(no_rate, 45)
    entry(gbp_hourly, 10)  # 0.167 h × 60 = 10.02
    billed = make_project(euro, hourly_rate=Decimal("100.00"))
    entry(billed, 60)
    invoicing.invoice_create_from_time(
        workspace=workspace,
        user=user,
        client=euro,
        date_from=None,
        date_to=None,
        project_public_ids=[billed.public_id],
    )
    # A stranger's unbilled time is not ours.
    ProjectFactory(hourly_rate=Decimal("500.00"))

    rows = dashboard_unbilled(workspace=workspace)

    assert [(r.currency, r.amount, r.entry_count, r.seconds, r.unpriced_seconds) for r in rows] == [
        ("EUR", Decimal("176.64"), 3, (90 + 20 + 60) * 60, 60 * 60),
        ("GBP", Decimal("10.02"), 2, (45 + 10) * 60, 45 * 60),
    ]
    assert rows[0].fixed_fee_seconds == 3600
    assert rows[1].fixed_fee_seconds == 0


# --- revenue --------------------------------------------------------------------------------


def _issued(workspace, user, client, price: str, issue_date: dt.date):
    draft = invoicing.invoice_create_draft(
        workspace=workspace,
        user=user,
        client=client,
        lines=[line(unit_price=price, tax_rate="21")],
    )
    return invoicing.invoice_issue(invoice=draft, user=user, issue_date=issue_date)


def _pay(invoice, user, amount: str, day: dt.date):
    invoicing.payment_record(
        invoice=invoice, user=user, amount=Decimal(amount), date=day, method="bank_transfer"
    )


@time_machine.travel(dt.datetime(2026, 3, 11, 12, tzinfo=dt.UTC), tick=False)
def test_revenue_per_currency_month_and_year(owner, stranger):
    workspace, user = owner.workspace, owner.user
    euro = make_client(workspace, currency="EUR")
    dollar = make_client(workspace, currency="USD")
    today = dt.date(2026, 3, 11)
    march = _issued(workspace, user, euro, "100.00", dt.date(2026, 3, 2))  # 121.00
    february = _issued(workspace, user, euro, "200.00", dt.date(2026, 2, 27))  # 242.00
    last_year = _issued(workspace, user, euro, "1000.00", dt.date(2025, 12, 31))  # 1,210.00
    too_old = _issued(workspace, user, euro, "3000.00", dt.date(2025, 3, 31))  # out of window
    credited = _issued(workspace, user, euro, "10.00", dt.date(2026, 1, 5))  # 12.10
    invoicing.credit_note_create(invoice=credited, user=user)  # −12.10 in March (today)
    voided = _issued(workspace, user, euro, "50.00", dt.date(2026, 3, 3))
    invoicing.invoice_void(invoice=voided, user=user)
    invoicing.invoice_create_draft(
        workspace=workspace, user=user, client=euro, lines=[line(unit_price="77.00")]
    )
    usd = _issued(workspace, user, dollar, "0.10", dt.date(2026, 3, 1))  # 0.12 (0.121)
    _pay(march, user, "21.00", dt.date(2026, 3, 10))
    _pay(march, user, "0.01", dt.date(2026, 3, 11))
    _pay(february, user, "242.00", dt.date(2026, 2, 28))
    _pay(last_year, user, "1210.00", dt.date(2026, 1, 15))
    _pay(too_old, user, "100.00", dt.date(2025, 4, 1))  # in the window (April 2025)
    _pay(usd, user, "0.12", dt.date(2026, 3, 11))
    # The stranger's money is never counted.
    _issued(stranger.workspace, stranger.user, make_client(stranger.workspace), "9.00", today)

    eur, usd_row = dashboard_revenue(workspace=workspace, today=today)

    # Credit notes are issued on the day they are created (today).
    assert eur.currency == "EUR"
    assert eur.invoiced_this_month == Decimal("121.00") - Decimal("12.10")
    assert eur.paid_this_month == Decimal("21.01")
    assert eur.invoiced_this_year == Decimal("121.00") + Decimal("242.00") + Decimal("12.10") - (
        Decimal("12.10")
    )
    assert eur.paid_this_year == Decimal("21.01") + Decimal("242.00") + Decimal("1210.00")
    by_month = {point.month: point for point in eur.months}
    assert by_month[dt.date(2025, 12, 1)].invoiced == Decimal("1210.00")
    assert by_month[dt.date(2025, 4, 1)].paid == Decimal("100.00")
    assert by_month[dt.date(2025, 4, 1)].invoiced == Decimal("0")
    assert [point.month for point in eur.months] == month_series(today)
    # 121 + 242 + 1,210 + 12.10 − 12.10
    assert sum(point.invoiced for point in eur.months) == Decimal("1573.00")
    assert (usd_row.currency, usd_row.invoiced_this_month, usd_row.paid_this_year) == (
        "USD",
        Decimal("0.12"),
        Decimal("0.12"),
    )


MONEY_CASES = st.lists(
    st.tuples(
        st.sampled_from(["EUR", "USD", "JPY"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
        st.integers(min_value=0, max_value=11),
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases=MONEY_CASES)
def test_revenue_sums_are_exact_per_currency(cases):
    today = dt.date(2026, 12, 15)
    with transaction.atomic():
        workspace = WorkspaceFactory()
        user = UserFactory()
        MembershipFactory(workspace=workspace, user=user)
        clients = {}
        expected: dict[str, Decimal] = {}
        for currency, price, month_offset in cases:
            if currency == "JPY":  # no minor unit
                price = price.to_integral_value() or Decimal("1")
            client = clients.get(currency) or make_client(workspace, currency=currency)
            clients[currency] = client
            invoice = _issued(workspace, user, client, str(price), months_back(today, month_offset))
            expected[currency] = expected.get(currency, Decimal("0")) + invoice.total
        rows = dashboard_revenue(workspace=workspace, today=today)

        assert {row.currency: row.invoiced_this_year for row in rows} == expected
        assert {row.currency: sum(p.invoiced for p in row.months) for row in rows} == expected
        transaction.set_rollback(True)


# --- hours in the workspace's time zone -----------------------------------------------------


def test_hours_follow_the_workspace_time_zone_around_midnight(owner, member):
    workspace, user = owner.workspace, owner.user  # Europe/Brussels (UTC+1 in March)
    project = ProjectFactory(client__workspace=workspace)

    def at(*args, minutes=10, **kwargs):
        make_entry(
            project=project,
            user=kwargs.pop("who", user),
            start=dt.datetime(*args, tzinfo=BRUSSELS),
            minutes=minutes,
            **kwargs,
        )

    at(2026, 3, 10, 23, 50)  # yesterday (22:50 UTC): this week, not today
    at(2026, 3, 11, 0, 10)  # today, though still the 10th in UTC (23:10 UTC)
    at(2026, 3, 11, 0, 20, is_billable=False)  # today, not billable
    at(2026, 3, 11, 0, 20, who=member.user)  # someone else's: the month, not "your hours"
    at(2026, 3, 8, 23, 59)  # Sunday before: last week
    at(2026, 3, 9, 0, 0)  # Monday 00:00: this week
    at(2026, 2, 28, 23, 30)  # February (local), though it is 22:30 UTC
    at(2026, 3, 1, 0, 15)  # March (local), though 28 February 23:15 UTC
    at(2025, 3, 31, 23, 30)  # before the 12-month window (April 2025 – March 2026)
    at(2025, 4, 1, 0, 30)  # first day of the window: 31 March 22:30 UTC

    # 00:30 in Brussels on the 11th is 23:30 UTC on the 10th.
    with time_machine.travel(dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC), tick=False):
        summary = dashboard_summary(workspace=workspace, user=user)

    assert summary.today == dt.date(2026, 3, 11)
    hours = summary.hours
    assert (hours.today_seconds, hours.today_billable_seconds) == (20 * 60, 10 * 60)
    assert hours.today_non_billable_seconds == 10 * 60
    assert (hours.week_seconds, hours.week_billable_seconds) == (40 * 60, 30 * 60)
    months = {point.month: point.seconds for point in summary.hours_by_month}
    assert months[dt.date(2026, 3, 1)] == 70 * 60
    assert months[dt.date(2026, 2, 1)] == 10 * 60
    assert months[dt.date(2025, 4, 1)] == 10 * 60
    assert sum(months.values()) == 90 * 60


def test_hours_on_a_new_year_monday(owner):
    workspace, user = owner.workspace, owner.user
    project = ProjectFactory(client__workspace=workspace)
    make_entry(
        project=project,
        user=user,
        start=dt.datetime(2025, 12, 31, 23, 0, tzinfo=BRUSSELS),
        minutes=60,
    )  # Wednesday of the week before
    make_entry(
        project=project,
        user=user,
        start=dt.datetime(2026, 1, 1, 0, 0, tzinfo=BRUSSELS),
        minutes=30,
    )

    hours, months = dashboard_hours(workspace=workspace, user=user, today=dt.date(2026, 1, 1))

    # 1 January 2026 is a Thursday: the week began on Monday 29 December 2025.
    assert (hours.today_seconds, hours.week_seconds) == (30 * 60, 90 * 60)
    assert [(m.month, m.seconds) for m in months[-2:]] == [
        (dt.date(2025, 12, 1), 3600),
        (dt.date(2026, 1, 1), 1800),
    ]


# --- quick starts ---------------------------------------------------------------------------


def test_quick_starts_are_the_users_last_five_distinct_projects(owner, member):
    workspace, user = owner.workspace, owner.user
    projects = [ProjectFactory(client__workspace=workspace, name=f"P{i}") for i in range(7)]
    start = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    for day, index in enumerate([0, 1, 2, 1, 3, 4, 5, 6, 6]):
        make_entry(
            project=projects[index], user=user, start=start + dt.timedelta(days=day), minutes=5
        )
    # P0 is the member's latest, not the owner's.
    make_entry(project=projects[0], user=member.user, start=start + dt.timedelta(days=30))
    projects[5].is_archived = True  # cannot be booked on any more
    projects[5].save()

    found = dashboard_quick_start_projects(workspace=workspace, user=user)

    assert [p.name for p in found] == ["P6", "P4", "P3", "P1", "P2"]


def test_scheduler_health(db):
    now = dt.datetime(2026, 3, 11, 12, tzinfo=dt.UTC)

    assert dashboard_scheduler_health(now=now).is_stale is True


@pytest.mark.parametrize("size", [10, 300])
def test_the_summary_costs_five_queries_whatever_the_size(owner, size, django_assert_num_queries):
    workspace, user = owner.workspace, owner.user
    project = ProjectFactory(client__workspace=workspace)
    other = ProjectFactory(client__workspace=workspace, billing_method="fixed")
    start = dt.datetime(2026, 3, 11, 7, 0, tzinfo=dt.UTC)
    from solodesk.timetracking.models import TimeEntry

    TimeEntry.objects.bulk_create(
        TimeEntry(
            workspace=workspace,
            user=user,
            project=project if index % 2 else other,
            started_at=start - dt.timedelta(hours=index * 7),
            ended_at=start - dt.timedelta(hours=index * 7) + dt.timedelta(minutes=40),
            duration_seconds=40 * 60,
            is_billable=index % 3 != 0,
        )
        for index in range(size)
    )
    from solodesk.timetracking.services import time_entry_days_rebuild

    time_entry_days_rebuild(workspace=workspace)  # bulk_create bypasses the services
    for _ in range(size // 10):
        _issued(workspace, user, project.client, "10.00", dt.date(2026, 3, 1))

    # 1 hours (the daily totals of 12 months), 2 quick starts (+ clients), 3 unbilled (GROUP BY project),
    # 4 receivables (GROUP BY currency), 5 revenue (invoiced UNION ALL paid).
    with time_machine.travel(start, tick=False), django_assert_num_queries(5):
        summary = dashboard_summary(workspace=workspace, user=user)

    assert len(summary.hours_by_month) == 12
