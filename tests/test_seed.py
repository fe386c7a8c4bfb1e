"""`solodesk seed`: a workspace full of data the application itself could have written.

Seeds the `small` scale (a second or two) and checks the invariants the app relies on:
counts, gapless numbers and counters, totals recomputed from the lines, payments and
statuses, billed time on its own client's issued invoices, the daily totals; then that the
app carries on (pages, invoice from time, the next number), and the refusals."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from itertools import pairwise

import pytest
from django.db.models import Sum
from django.test import Client as DjangoClient
from django.utils import timezone

from solodesk.accounts.models import Membership, User, Workspace
from solodesk.cli import SEED_EMAIL, SEED_PASSWORD, main
from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError
from solodesk.expenses.models import Expense
from solodesk.invoicing.calculation import document_totals
from solodesk.invoicing.models import (
    DocumentCounter,
    Invoice,
    InvoiceActivity,
    InvoiceLine,
    Payment,
)
from solodesk.invoicing.selectors import invoice_list
from solodesk.invoicing.services import invoice_create_from_time, invoice_issue
from solodesk.projects.models import Project
from solodesk.quotes.models import Quote
from solodesk.seed import (
    DAY_END_HOUR,
    DAY_START_HOUR,
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    MAX_TRACKED_SECONDS,
    SCALES,
    UNBILLED_DAYS,
    Scale,
    seed_workspace,
)
from solodesk.timetracking.models import (
    RunningTimer,
    TimeEntry,
    TimeEntryDay,
    TimeEntryMonth,
    UnbilledTime,
)
from solodesk.timetracking.services import timer_stop

EMAIL = "seed-owner@seed.example"
PASSWORD = "seed passphrase 1234"


def _seed(email: str = EMAIL) -> Workspace:
    result = seed_workspace(scale="small", email=email, password=PASSWORD, random_seed=3)
    assert result.seconds > 0
    return Workspace.objects.get(public_id=result.workspace_public_id)


def _row_counts() -> dict[str, int]:
    models = (User, Workspace, Client, Project, TimeEntry, Invoice, InvoiceLine, Payment, Quote)
    return {model.__name__: model.objects.count() for model in (*models, Expense)}


def _assert_running_timer(workspace: Workspace, owner: User) -> RunningTimer:
    """The owner's timer runs, as `timer_start` would have left it: one row, on the project
    of their latest entry (bookable: neither it nor its client archived), with a
    description, started one to two hours ago but not before their last entry ended. The
    members' timers are not running."""
    timers = list(RunningTimer.objects.filter(workspace=workspace).select_related("project"))
    assert [timer.user_id for timer in timers] == [owner.pk]
    timer = timers[0]
    entries = TimeEntry.objects.filter(workspace=workspace, user=owner)
    latest = entries.select_related("project__client").latest("started_at")
    assert timer.project == latest.project
    assert not timer.project.is_archived and not latest.project.client.is_archived
    assert timer.project.workspace_id == workspace.pk
    assert timer.description.strip()
    now = timezone.now()
    last_end = max(entries.values_list("ended_at", flat=True))
    assert last_end <= timer.started_at <= now - dt.timedelta(minutes=1)
    ran = now - timer.started_at
    assert ran <= dt.timedelta(minutes=121)
    assert ran >= dt.timedelta(minutes=59) or timer.started_at == last_end
    assert timer.created_at == timer.started_at
    return timer


def _assert_gapless(rows, counters: dict[tuple[str, int], int], series: str) -> None:
    by_year: dict[int, list[int]] = defaultdict(list)
    for year, sequence in rows:
        by_year[year].append(sequence)
    assert by_year
    for year, sequences in by_year.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), (series, year)
        assert counters[series, year] == len(sequences), (series, year)


def test_seed_small_writes_consistent_data_the_app_can_continue(db):
    workspace = _seed()
    scale = SCALES["small"]
    user = User.objects.get(email=EMAIL)
    assert user.check_password(PASSWORD)
    assert workspace.time_zone == "Europe/Berlin"
    assert Client.objects.filter(workspace=workspace).count() == scale.clients
    assert set(Client.objects.filter(workspace=workspace).values_list("currency", flat=True)) == {
        "EUR",
        "USD",
    }
    assert Project.objects.filter(workspace=workspace).count() == scale.projects
    entries = TimeEntry.objects.filter(workspace=workspace)
    assert entries.count() == scale.time_entries
    assert entries.exclude(user=user).count() == 0  # small: the owner alone
    assert list(Membership.objects.filter(workspace=workspace).values_list("user", "role")) == [
        (user.pk, Membership.Role.OWNER)
    ]
    invoices = Invoice.objects.filter(workspace=workspace)
    assert invoices.count() == scale.invoices
    assert Quote.objects.filter(workspace=workspace).count() == scale.quotes
    assert Expense.objects.filter(workspace=workspace).count() == scale.expenses
    today = timezone.now().astimezone(workspace.tzinfo).date()
    assert entries.earliest("started_at").started_at.date() >= today - dt.timedelta(days=366)

    # Gapless numbers per series and year; the counter holds the last one.
    counters = {
        (c.series, c.year): c.last_value
        for c in DocumentCounter.objects.filter(workspace=workspace)
    }
    for kind in (Invoice.Kind.INVOICE, Invoice.Kind.CREDIT_NOTE):
        numbered = invoices.filter(kind=kind, number__isnull=False)
        _assert_gapless(numbered.values_list("number_year", "number_sequence"), counters, kind)
        for number, year, sequence in numbered.values_list(
            "number", "number_year", "number_sequence"
        ):
            prefix = "CN-" if kind == Invoice.Kind.CREDIT_NOTE else ""
            assert number == f"{prefix}{year}-{sequence:04d}"
    quotes = Quote.objects.filter(workspace=workspace, number__isnull=False)
    _assert_gapless(quotes.values_list("number_year", "number_sequence"), counters, "quote")
    assert quotes.filter(status=Quote.Status.ACCEPTED, accepted_at__isnull=False).exists()
    expiring = quotes.filter(
        status=Quote.Status.SENT,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=7),
    )
    assert expiring.exists()
    for quote in Quote.objects.filter(workspace=workspace).prefetch_related("lines"):
        assert document_totals(quote, list(quote.lines.all())).total == quote.total
    assert invoices.filter(status=Invoice.Status.DRAFT, number__isnull=True).count() >= 2
    assert invoices.filter(kind=Invoice.Kind.CREDIT_NOTE).count() >= 2

    # Totals are what the calculation module computes from the lines.
    for invoice in invoices.select_related("credited_invoice").prefetch_related(
        "lines", "payments"
    ):
        lines = list(invoice.lines.all())
        assert lines
        totals = document_totals(invoice, lines)
        assert [line.total for line in lines] == list(totals.line_totals)
        assert (invoice.subtotal, invoice.discount_amount, invoice.tax_total, invoice.total) == (
            totals.subtotal,
            totals.discount_amount,
            totals.tax_total,
            totals.total,
        )
        # Payments and status agree, as _settle leaves them.
        paid = sum((p.amount for p in invoice.payments.all()), Decimal("0.00"))
        assert paid == invoice.amount_paid
        assert invoice.amount_paid + invoice.amount_credited <= invoice.total
        settled = invoice.amount_paid + invoice.amount_credited
        if invoice.status == Invoice.Status.PAID:
            assert settled == invoice.total and invoice.paid_on is not None
        elif invoice.status == Invoice.Status.PARTIALLY_PAID:
            assert 0 < invoice.amount_paid < invoice.total and invoice.paid_on is None
        elif invoice.status in (Invoice.Status.ISSUED, Invoice.Status.VOID):
            assert paid == 0 and invoice.amount_credited == 0 and invoice.paid_on is None
        if invoice.kind == Invoice.Kind.CREDIT_NOTE:
            original = invoice.credited_invoice
            assert original is not None and original.client_id == invoice.client_id
            assert original.issue_date <= invoice.issue_date
    # The history the services write: each number issued once, each payment recorded.
    issued_messages = sorted(
        InvoiceActivity.objects.filter(
            invoice__workspace=workspace, action=InvoiceActivity.Action.ISSUED
        ).values_list("invoice__number", "message")
    )
    assert [message.split(",")[0].rstrip(".") for _, message in issued_messages] == [
        f"Issued as {number}" for number, _ in issued_messages
    ]
    assert len(issued_messages) == invoices.exclude(status=Invoice.Status.DRAFT).count()
    assert (
        InvoiceActivity.objects.filter(
            invoice__workspace=workspace, action=InvoiceActivity.Action.PAYMENT_RECORDED
        ).count()
        == Payment.objects.filter(invoice__workspace=workspace).count()
    )
    for payment in Payment.objects.filter(invoice__workspace=workspace).select_related("invoice"):
        assert payment.invoice.issue_date <= payment.date <= today
    assert invoice_list(workspace=workspace, status="overdue").count() >= 2
    assert invoices.filter(status=Invoice.Status.PARTIALLY_PAID).exists()
    assert invoices.filter(status=Invoice.Status.PAID).exists()
    assert invoices.filter(status=Invoice.Status.ISSUED, due_date__gte=today).exists()

    # Billed time: on an issued invoice of the entry's own client; recent time unbilled.
    cutoff = today - dt.timedelta(days=UNBILLED_DAYS)
    billed = entries.filter(invoice_line__isnull=False).select_related(
        "project", "invoice_line__invoice"
    )
    assert billed.exists()
    for entry in billed:
        invoice = entry.invoice_line.invoice
        assert invoice.kind == Invoice.Kind.INVOICE
        assert invoice.status not in (Invoice.Status.DRAFT, Invoice.Status.VOID)
        assert invoice.client_id == entry.project.client_id
        assert entry.invoiced_at == invoice.issued_at
        assert entry.is_billable
        assert entry.started_at.astimezone(workspace.tzinfo).date() < cutoff
    old_unbilled = entries.filter(
        invoice_line__isnull=True,
        is_billable=True,
        started_at__lt=dt.datetime.combine(cutoff, dt.time(), workspace.tzinfo),
    ).exclude(project__billing_method=Project.BillingMethod.NON_BILLABLE)
    assert not old_unbilled.exists()
    assert entries.filter(invoiced_at__isnull=True, invoice_line__isnull=False).count() == 0
    assert entries.filter(invoice_line__isnull=True, is_billable=True).exists()
    # Each line's tracked seconds are the seconds of the entries it bills.
    billed_seconds = dict(
        billed.order_by()
        .values_list("invoice_line")
        .annotate(seconds=Sum("duration_seconds"))
        .values_list("invoice_line", "seconds")
    )
    tracked = dict(
        InvoiceLine.objects.filter(pk__in=billed_seconds).values_list("pk", "tracked_seconds")
    )
    assert tracked == billed_seconds

    # Daily totals equal the raw aggregate by local day.
    raw: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for started_at, seconds, is_billable in entries.values_list(
        "started_at", "duration_seconds", "is_billable"
    ):
        day = raw[started_at.astimezone(workspace.tzinfo).date()]
        day[0] += 1
        day[1] += seconds
        day[2] += seconds if is_billable else 0
    stored = {
        row.day: [row.entries, row.seconds, row.billable_seconds]
        for row in TimeEntryDay.objects.filter(workspace=workspace, user=user)
    }
    assert stored == raw
    assert all(day.weekday() < 5 for day in stored)

    # The owner's timer runs; not an entry, so not in the totals until it is stopped,
    # and then in them as any entry the app writes.
    timer = _assert_running_timer(workspace, user)
    web = DjangoClient()
    web.force_login(user)
    header = web.get("/time/").content.decode()
    assert f'data-timer-started="{timer.started_at.isoformat()}"' in header
    assert timer.project.name in header and timer.description in header
    stopped = timer_stop(user=user)
    assert (stopped.project, stopped.started_at) == (timer.project, timer.started_at)
    assert stopped.description == timer.description
    day = raw[stopped.started_at.astimezone(workspace.tzinfo).date()]
    day[0] += 1
    day[1] += stopped.duration_seconds
    day[2] += stopped.duration_seconds if stopped.is_billable else 0
    stored = {
        row.day: [row.entries, row.seconds, row.billable_seconds]
        for row in TimeEntryDay.objects.filter(workspace=workspace, user=user)
    }
    assert stored == raw

    # The app carries on: invoice the unbilled time and issue it with the next number.
    client = (
        Client.objects.filter(
            workspace=workspace,
            projects__time_entries__invoice_line__isnull=True,
            projects__time_entries__is_billable=True,
            projects__billing_method=Project.BillingMethod.HOURLY,
        )
        .distinct()
        .first()
    )
    assert client is not None
    draft = invoice_create_from_time(
        workspace=workspace, user=user, client=client, date_from=None, date_to=None
    )
    issued = invoice_issue(invoice=draft, user=user, issue_date=today)
    last = counters.get((Invoice.Kind.INVOICE, today.year), 0)
    assert issued.number == f"{today.year}-{last + 1:04d}"

    # Pages render on the seeded data.
    pages = ("/", "/invoices/", "/time/", "/quotes/", "/clients/", "/expenses/", "/reports/")
    for url in pages:
        assert web.get(url).status_code == 200, url


def test_seed_refuses_an_email_that_exists_and_writes_nothing(db):
    _seed()
    before = _row_counts()

    with pytest.raises(ApplicationError, match="already exists"):
        seed_workspace(scale="small", email=EMAIL.upper(), password=PASSWORD)
    with pytest.raises(ApplicationError, match="not a valid e-mail"):
        seed_workspace(scale="small", email="owner-at-nowhere", password=PASSWORD)
    with pytest.raises(ApplicationError, match="Unknown scale"):
        seed_workspace(scale="huge", email="other@seed.example", password=PASSWORD)

    assert _row_counts() == before


def test_seed_command_prints_counts_and_refuses_a_taken_email(db, capsys):
    _seed()  # the same random seed: the data repeats, the public ids must not

    code = main(["seed", "--scale", "small", "--email", "cli@seed.example", "--random-seed", "3"])

    out = capsys.readouterr().out
    assert code == 0
    assert "time_entries" in out and "2,000" in out
    assert "write time entries" in out
    assert "Log in as cli@seed.example / seed passphrase 1234" in out
    assert TimeEntry.objects.filter(user__email="cli@seed.example").count() == 2_000
    before = _row_counts()

    code = main(["seed", "--scale", "small", "--email", "cli@seed.example"])

    captured = capsys.readouterr()
    assert code == 2
    assert "already exists" in captured.err
    assert _row_counts() == before
    # The command's defaults (kept in cli.py, which loads before Django) are the module's.
    assert (SEED_EMAIL, SEED_PASSWORD) == (DEFAULT_EMAIL, DEFAULT_PASSWORD)


def test_seed_spreads_the_time_over_a_team_at_a_persons_pace(db, monkeypatch):
    # A small team scale: the owner and two members share 5,000 entries over a year.
    monkeypatch.setitem(SCALES, "team", Scale(3, 10, 5_000, 1, 60, 10, 10, 3))

    result = seed_workspace(scale="team", email="Lead@Team.example", password=PASSWORD)

    workspace = Workspace.objects.get(public_id=result.workspace_public_id)
    owner = User.objects.get(email="lead@team.example")
    memberships = Membership.objects.filter(workspace=workspace).select_related("user")
    assert sorted((m.user.email, m.role) for m in memberships) == [
        ("lead@team.example", Membership.Role.OWNER),
        ("member01+lead@team.example", Membership.Role.MEMBER),
        ("member02+lead@team.example", Membership.Role.MEMBER),
    ]
    members = [m.user for m in memberships if m.user != owner]
    assert all(not member.has_usable_password() and member.is_active for member in members)
    assert result.counts["members"] == 2
    entries = TimeEntry.objects.filter(workspace=workspace)
    assert entries.count() == 5_000
    public_ids = list(entries.values_list("public_id", flat=True))
    assert len(set(public_ids)) == 5_000 and {uuid.version for uuid in public_ids} == {4}
    # Each person: their own working days, one entry after the other from 08:00 to 23:00
    # local time, at most 12 hours a day, about seven entries a day.
    tz = workspace.tzinfo
    by_person_day: dict[tuple[int, dt.date], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(
        list
    )
    for user_id, started_at, ended_at in entries.values_list("user", "started_at", "ended_at"):
        start, end = started_at.astimezone(tz), ended_at.astimezone(tz)
        by_person_day[user_id, start.date()].append((start, end))
    assert {user_id for user_id, _day in by_person_day} == {owner.pk, *(m.pk for m in members)}
    for (_user_id, day), spans in by_person_day.items():
        spans.sort()
        assert day.weekday() < 5
        assert spans[0][0].time() >= dt.time(DAY_START_HOUR)
        assert spans[-1][1].date() == day and spans[-1][1].time() <= dt.time(DAY_END_HOUR)
        assert all(end <= next_start for (_s, end), (next_start, _e) in pairwise(spans))
        assert sum((end - start).total_seconds() for start, end in spans) <= MAX_TRACKED_SECONDS
    for person in (owner, *members):
        days = [
            len(spans) for (user_id, _day), spans in by_person_day.items() if user_id == person.pk
        ]
        assert 180 <= len(days) <= 250  # a year of working days, less holidays
        assert 5 <= sum(days) / len(days) <= 9
        assert max(days) <= 20
    # Not everyone is off on the same days (holidays and sick days of their own).
    owner_days = {day for user_id, day in by_person_day if user_id == owner.pk}
    member_days = {day for user_id, day in by_person_day if user_id == members[0].pk}
    assert owner_days != member_days

    # The daily totals per person and the monthly ones per project equal the raw sums.
    raw_days: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    raw_months: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for user_id, project_id, started_at, seconds, is_billable in entries.values_list(
        "user", "project", "started_at", "duration_seconds", "is_billable"
    ):
        day = started_at.astimezone(tz).date()
        for row in (raw_days[user_id, day], raw_months[project_id, day.replace(day=1)]):
            row[0] += 1
            row[1] += seconds
            row[2] += seconds if is_billable else 0
    assert {
        (row.user_id, row.day): [row.entries, row.seconds, row.billable_seconds]
        for row in TimeEntryDay.objects.filter(workspace=workspace)
    } == raw_days
    assert {
        (row.project_id, row.month): [row.entries, row.seconds, row.billable_seconds]
        for row in TimeEntryMonth.objects.filter(workspace=workspace)
    } == raw_months
    assert result.counts["time_entry_days"] == len(raw_days)
    # The unbilled time per project (decision 0008) too, rebuilt after the bulk load.
    raw_unbilled: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for project_id, seconds in TimeEntry.objects.filter(
        workspace=workspace, is_billable=True, invoice_line=None, invoiced_at=None
    ).values_list("project_id", "duration_seconds"):
        raw_unbilled[project_id][0] += 1
        raw_unbilled[project_id][1] += seconds
    assert raw_unbilled
    assert {
        row.project_id: [row.entries, row.seconds]
        for row in UnbilledTime.objects.filter(workspace=workspace)
    } == raw_unbilled
    assert result.counts["unbilled_times"] == len(raw_unbilled)
    # The owner's timer runs (the members' do not) and is in none of these totals.
    _assert_running_timer(workspace, owner)
    assert result.counts["running_timers"] == 1


def test_seed_refuses_a_member_email_that_exists_and_writes_nothing(db, monkeypatch):
    monkeypatch.setitem(SCALES, "team", Scale(3, 10, 500, 1, 30, 5, 5, 3))
    User.objects.create_user(email="member02+lead@team.example", password=PASSWORD)
    before = _row_counts()

    with pytest.raises(
        ApplicationError, match=re.escape("member02+lead@team.example already exists")
    ):
        seed_workspace(scale="team", email="lead@team.example", password=PASSWORD)

    assert _row_counts() == before


def test_seed_vacuums_what_it_wrote_on_postgresql_once_committed(transactional_db):
    from django.db import connection

    result = seed_workspace(scale="small", email="vacuum@seed.example", password=PASSWORD)

    # Outside any transaction: VACUUM (ANALYZE) on PostgreSQL (the visibility map lets
    # index-only scans skip the heap at once); SQLite has only ANALYZE.
    expected = "vacuum (analyze)" if connection.vendor == "postgresql" else "analyze"
    assert expected in result.phases
    assert TimeEntry.objects.filter(user__email="vacuum@seed.example").count() == 2_000
