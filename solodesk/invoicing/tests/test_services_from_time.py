"""Draft invoices from unbilled time: grouping, rates, fixed fees, rounding, reservation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from solodesk.accounts.models import TimeRounding
from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import services
from solodesk.invoicing.models import Invoice, InvoiceLine
from solodesk.invoicing.tests.factories import make_client, make_entry, make_project
from solodesk.projects.models import Project
from solodesk.timetracking.models import TimeEntry

D = Decimal
pytestmark = pytest.mark.django_db


def _at(workspace, day: int, hour: int = 9, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=workspace.tzinfo)


def _from_time(owner, client, **kwargs):
    kwargs.setdefault("date_from", None)
    kwargs.setdefault("date_to", None)
    return services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, **kwargs
    )


def _lines(invoice: Invoice) -> list[tuple]:
    return [
        (li.description, li.quantity, li.unit, li.unit_price, li.total, li.tracked_seconds)
        for li in invoice.lines.all()
    ]


@pytest.fixture
def setup(owner):
    """Client (default rate 80) with project Alpha (own rate 100) and Beta (client's rate);
    entries on 2 and 3 March."""
    workspace = owner.workspace
    client = make_client(workspace, name="Acme", default_hourly_rate=D("80.00"))
    alpha = make_project(client, name="Alpha", hourly_rate=D("100.00"))
    beta = make_project(client, name="Beta", hourly_rate=None)
    entries = [
        make_entry(project=alpha, user=owner.user, start=_at(workspace, 2, 9), minutes=90),
        make_entry(project=alpha, user=owner.user, start=_at(workspace, 2, 14), minutes=30),
        make_entry(project=alpha, user=owner.user, start=_at(workspace, 3, 9), minutes=60),
        make_entry(project=beta, user=owner.user, start=_at(workspace, 3, 10), minutes=45),
    ]
    return client, alpha, beta, entries


def test_grouping_by_project_bills_hours_at_the_project_or_client_rate(owner, setup):
    client, alpha, beta, entries = setup
    invoice = _from_time(owner, client, grouping="project")
    assert invoice.status == "draft"
    assert invoice.currency == client.currency
    assert _lines(invoice) == [
        ("Alpha — 2026-03-02 – 2026-03-03", D("3.000"), "hours", D("100.00"), D("300.00"), 10800),
        ("Beta — 2026-03-03", D("0.750"), "hours", D("80.00"), D("60.00"), 2700),
    ]
    assert [li.project for li in invoice.lines.all()] == [alpha, beta]
    assert invoice.total == D("360.00")
    for entry in entries:
        entry.refresh_from_db()
        assert entry.invoice_line.invoice == invoice
        assert entry.invoiced_at is None
    assert list(invoice.activities.values_list("action", "message")) == [
        ("created", "Draft created from 4 time entries.")
    ]


def test_grouping_by_project_and_day(owner, setup):
    client, *_ = setup
    invoice = _from_time(owner, client, grouping="project_day")
    assert _lines(invoice) == [
        ("Alpha — 2026-03-02", D("2.000"), "hours", D("100.00"), D("200.00"), 7200),
        ("Alpha — 2026-03-03", D("1.000"), "hours", D("100.00"), D("100.00"), 3600),
        ("Beta — 2026-03-03", D("0.750"), "hours", D("80.00"), D("60.00"), 2700),
    ]


def test_one_line_per_entry(owner, setup):
    client, _alpha, _beta, entries = setup
    invoice = _from_time(owner, client, grouping="entry")
    assert [(li.description, li.quantity) for li in invoice.lines.all()] == [
        (f"Alpha — 2026-03-02: {entries[0].description}", D("1.500")),
        (f"Alpha — 2026-03-02: {entries[1].description}", D("0.500")),
        (f"Alpha — 2026-03-03: {entries[2].description}", D("1.000")),
        (f"Beta — 2026-03-03: {entries[3].description}", D("0.750")),
    ]
    for entry, invoice_line in zip(entries, invoice.lines.all(), strict=True):
        entry.refresh_from_db()
        assert entry.invoice_line == invoice_line


def test_a_fixed_fee_project_bills_one_line_and_still_reserves_its_entries(owner):
    client = make_client(owner.workspace)
    project = make_project(
        client,
        name="Website",
        billing_method=Project.BillingMethod.FIXED,
        hourly_rate=None,
        fixed_fee=D("2500.00"),
    )
    entries = [
        make_entry(project=project, user=owner.user, start=_at(owner.workspace, d), minutes=120)
        for d in (2, 3, 4)
    ]
    invoice = _from_time(owner, client, grouping="project_day")
    assert _lines(invoice) == [
        ("Website — fixed fee", D("1.000"), "pieces", D("2500.00"), D("2500.00"), 21600)
    ]
    invoice_line = invoice.lines.get()
    assert {entry.pk for entry in invoice_line.time_entries.all()} == {e.pk for e in entries}


def test_a_project_without_any_rate_is_named_and_nothing_is_created(owner):
    client = make_client(owner.workspace, default_hourly_rate=None)
    project = make_project(client, name="Pro bono?", hourly_rate=None)
    make_entry(project=project, user=owner.user, start=_at(owner.workspace, 2), minutes=60)
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, client)
    assert "“Pro bono?”" in error.value.message
    assert list(error.value.errors) == ["project_ids"]
    assert not Invoice.objects.exists()
    assert TimeEntry.objects.get().invoice_line is None


def test_only_unbilled_billable_entries_of_the_client_in_the_period_are_taken(owner, stranger):
    workspace = owner.workspace
    client = make_client(workspace)
    project = make_project(client, name="P", hourly_rate=D("100.00"))
    other_project = make_project(client, name="Other", hourly_rate=D("100.00"))
    internal = make_project(
        client, name="Internal", billing_method=Project.BillingMethod.NON_BILLABLE
    )
    # 23:30 in Brussels on 1 March is 22:30 UTC: a 1 March entry, outside the period.
    make_entry(project=project, user=owner.user, start=_at(workspace, 1, 23, 30), minutes=60)
    taken = [
        make_entry(project=project, user=owner.user, start=_at(workspace, 2, 0, 15), minutes=60),
        # 23:30 local on the last day (22:30 UTC) is inside.
        make_entry(project=project, user=owner.user, start=_at(workspace, 31, 23, 30), minutes=30),
    ]
    make_entry(project=project, user=owner.user, start=_at(workspace, 1, 9, month=4), minutes=60)
    make_entry(
        project=project, user=owner.user, start=_at(workspace, 5), minutes=60, is_billable=False
    )
    make_entry(project=internal, user=owner.user, start=_at(workspace, 5), minutes=60)
    make_entry(project=other_project, user=owner.user, start=_at(workspace, 5), minutes=60)
    other_client_project = make_project(make_client(workspace), hourly_rate=D("1.00"))
    make_entry(project=other_client_project, user=owner.user, start=_at(workspace, 5), minutes=60)
    strangers_project = make_project(make_client(stranger.workspace), hourly_rate=D("1.00"))
    make_entry(project=strangers_project, user=stranger.user, start=_at(workspace, 5), minutes=60)

    invoice = _from_time(
        owner,
        client,
        date_from=dt.date(2026, 3, 2),
        date_to=dt.date(2026, 3, 31),
        project_public_ids=[project.public_id],
    )
    reserved = TimeEntry.objects.filter(invoice_line__invoice=invoice)
    assert set(reserved.values_list("pk", flat=True)) == {entry.pk for entry in taken}
    assert _lines(invoice) == [
        ("P — 2026-03-02 – 2026-03-31", D("1.500"), "hours", D("100.00"), D("150.00"), 5400)
    ]


def test_no_unbilled_time_is_an_error(owner):
    client = make_client(owner.workspace)
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, client)
    assert error.value.message == "No unbilled billable time for this client in that period."
    assert not Invoice.objects.exists()


def test_another_workspaces_client_is_refused_and_nothing_is_created(owner, stranger):
    their_client = make_client(stranger.workspace)
    their_project = make_project(their_client)
    make_entry(project=their_project, user=stranger.user, start=_at(owner.workspace, 2), minutes=60)
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, their_client)
    assert error.value.errors == {"client_id": ["Client not found."]}
    assert not Invoice.objects.exists()
    assert TimeEntry.objects.get().invoice_line is None


def test_a_project_of_another_client_is_refused(owner, setup):
    client, *_ = setup
    foreign = make_project(make_client(owner.workspace))
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, client, project_public_ids=[foreign.public_id])
    assert list(error.value.errors) == ["project_ids"]
    assert not Invoice.objects.exists()


def test_bad_grouping_and_reversed_period_are_refused(owner, setup):
    client, *_ = setup
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, client, grouping="month")
    assert list(error.value.errors) == ["grouping"]
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, client, date_from=dt.date(2026, 3, 5), date_to=dt.date(2026, 3, 1))
    assert list(error.value.errors) == ["date_to"]
    assert not Invoice.objects.exists()


# --- reservation -----------------------------------------------------------------------------


def test_reserved_entries_cannot_be_taken_by_a_second_invoice_until_the_draft_is_deleted(
    owner, setup
):
    client, *_ = setup
    first = _from_time(owner, client)
    # The single invoice_line column is the reservation: the second call finds nothing.
    assert TimeEntry.objects.filter(invoice_line__isnull=True).count() == 0
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, client)
    assert error.value.message == "No unbilled billable time for this client in that period."
    assert Invoice.objects.count() == 1

    services.invoice_delete_draft(invoice=first, user=owner.user)
    second = _from_time(owner, client)
    assert TimeEntry.objects.filter(invoice_line__invoice=second).count() == 4


def test_issued_entries_stay_billed_and_are_not_offered_again(owner, setup):
    client, *_ = setup
    invoice = _from_time(owner, client)
    services.invoice_issue(invoice=invoice, user=owner.user, issue_date=dt.date(2026, 3, 4))
    assert TimeEntry.objects.filter(invoiced_at__isnull=True).count() == 0
    with pytest.raises(ApplicationError):
        _from_time(owner, client)


def test_an_entry_taken_by_another_draft_meanwhile_rolls_everything_back(owner, setup, monkeypatch):
    """The race between reading the candidates and reserving them (no row locks on SQLite):
    another draft reserves one entry in between; the conditional update sees it, and the
    whole call rolls back instead of moving the entry to a second invoice."""
    client, _alpha, _beta, entries = setup
    other = Invoice.objects.create(workspace=owner.workspace, client=client, currency="EUR")
    other_line = InvoiceLine.objects.create(
        invoice=other, description="x", quantity=D("1"), unit_price=D("1.00")
    )
    original = services._lines_from_entries

    def racing(**kwargs):
        TimeEntry.objects.filter(pk=entries[0].pk).update(invoice_line=other_line)
        return original(**kwargs)

    monkeypatch.setattr(services, "_lines_from_entries", racing)
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, client)
    assert error.value.message == (
        "Some of this time was just put on another invoice; please try again."
    )
    assert list(Invoice.objects.values_list("pk", flat=True)) == [other.pk]
    # Everything rolled back (in this test the racing update ran inside the same transaction,
    # so it went too): no entry is on any invoice, and none is on two.
    assert not TimeEntry.objects.filter(invoice_line__isnull=False).exists()


# --- rounding --------------------------------------------------------------------------------

# Three entries: 7 min 10 s (430 s), 22 min (1320 s), 61 min 5 s (3665 s) = 5415 s raw.
DURATIONS = [430, 1320, 3665]


@pytest.mark.parametrize(
    ("mode", "minutes", "scope", "quantity"),
    [
        ("none", 1, "entry", D("1.504")),  # 5415 s = 1.50417 h
        ("up", 1, "entry", D("1.533")),  # 480 + 1320 + 3720 = 5520 s
        ("up", 6, "entry", D("1.700")),  # 720 + 1440 + 3960 = 6120 s
        ("up", 6, "line", D("1.600")),  # 5415 → 16 × 360 = 5760 s
        ("nearest", 6, "entry", D("1.500")),  # 360 + 1440 + 3600 = 5400 s
        ("nearest", 15, "entry", D("1.250")),  # 0 + 900 + 3600 = 4500 s
        ("nearest", 15, "line", D("1.500")),  # 5415 → 6 × 900 = 5400 s
        ("up", 15, "line", D("1.750")),  # 5415 → 7 × 900 = 6300 s
        ("up", 30, "entry", D("2.500")),  # 1800 + 1800 + 5400 = 9000 s
        ("nearest", 30, "line", D("1.500")),  # 5415 → 3 × 1800 = 5400 s
    ],
)
def test_rounding_rules_give_exact_billed_hours(owner, mode, minutes, scope, quantity):
    workspace = owner.workspace
    workspace.time_rounding_mode = mode
    workspace.time_rounding_minutes = minutes
    workspace.time_rounding_scope = scope
    workspace.save()
    client = make_client(workspace)
    project = make_project(client, hourly_rate=D("100.00"))
    for hour, seconds in zip((8, 10, 12), DURATIONS, strict=True):
        make_entry(project=project, user=owner.user, start=_at(workspace, 2, hour), seconds=seconds)
    invoice = _from_time(owner, client)
    invoice_line = invoice.lines.get()
    assert invoice_line.quantity == quantity
    assert invoice_line.tracked_seconds == 5415
    assert invoice_line.total == quantity * D("100.00")
    # The raw entries never change.
    assert sorted(TimeEntry.objects.values_list("duration_seconds", flat=True)) == DURATIONS


def test_the_projects_rounding_overrides_the_workspaces_field_by_field(owner):
    workspace = owner.workspace
    workspace.time_rounding_mode = TimeRounding.UP
    workspace.time_rounding_minutes = 30
    workspace.time_rounding_scope = TimeRounding.PER_ENTRY
    workspace.save()
    client = make_client(workspace)
    exact = make_project(client, name="A exact", time_rounding_mode=TimeRounding.NONE)
    # Only the scope is overridden: up to 30 minutes (the workspace's), on the line's total.
    per_line = make_project(client, name="B per line", time_rounding_scope=TimeRounding.PER_LINE)
    default = make_project(client, name="C default")
    for project in (exact, per_line, default):
        for hour, seconds in zip((8, 10, 12), DURATIONS, strict=True):
            make_entry(
                project=project, user=owner.user, start=_at(workspace, 2, hour), seconds=seconds
            )
    invoice = _from_time(owner, client)
    assert [(li.project, li.quantity) for li in invoice.lines.all()] == [
        (exact, D("1.504")),
        (per_line, D("2.000")),  # 5415 → 4 × 1800 = 7200 s
        (default, D("2.500")),  # 1800 + 1800 + 5400 = 9000 s
    ]


def test_rounding_rule_helper():
    rule = services.RoundingRule(mode="nearest", minutes=6, scope="entry")
    # Half up: exactly 3 minutes on a 6-minute step goes up.
    assert [rule.apply(s) for s in (0, 179, 180, 360, 539, 540)] == [0, 0, 360, 360, 360, 720]
    assert services.hours_from_seconds(5415) == D("1.504")
    assert services.hours_from_seconds(1) == D("0.000")
