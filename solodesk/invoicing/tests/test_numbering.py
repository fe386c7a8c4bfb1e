"""Invoice and credit note numbers: format, per-year and per-workspace series, no gaps
after a failure, and no duplicates under concurrent issuing (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import services
from solodesk.invoicing.models import DocumentCounter, Invoice
from solodesk.invoicing.tests.factories import (
    line,
    make_client,
    make_draft,
    make_entry,
    make_issued,
    make_project,
)
from solodesk.tests.factories import WorkspaceFactory
from solodesk.timetracking.models import TimeEntry

D = Decimal
MARCH_2 = dt.date(2026, 3, 2)


def _issue(owner, issue_date=MARCH_2, **kwargs) -> Invoice:
    return make_issued(workspace=owner.workspace, user=owner.user, issue_date=issue_date, **kwargs)


@pytest.mark.django_db
def test_numbers_follow_the_default_format_in_order(owner):
    numbers = [_issue(owner).number for _ in range(3)]
    assert numbers == ["2026-0001", "2026-0002", "2026-0003"]
    assert list(
        Invoice.objects.order_by("number_sequence").values_list("number_year", "number_sequence")
    ) == [(2026, 1), (2026, 2), (2026, 3)]


@pytest.mark.django_db
def test_drafts_have_no_number_and_take_none(owner):
    draft = make_draft(workspace=owner.workspace, user=owner.user)
    assert (draft.number, draft.number_year, draft.number_sequence) == (None, None, None)
    assert not DocumentCounter.objects.exists()
    assert _issue(owner).number == "2026-0001"
    draft.refresh_from_db()
    assert draft.number is None


@pytest.mark.django_db
def test_the_year_of_the_issue_date_selects_the_counter(owner):
    assert _issue(owner, dt.date(2026, 12, 31)).number == "2026-0001"
    assert _issue(owner, dt.date(2027, 1, 1)).number == "2027-0001"
    assert _issue(owner, dt.date(2027, 1, 2)).number == "2027-0002"
    # Back-dated into the previous year: that year's series goes on.
    assert _issue(owner, dt.date(2026, 12, 30)).number == "2026-0002"
    assert sorted(DocumentCounter.objects.values_list("series", "year", "last_value")) == [
        ("invoice", 2026, 2),
        ("invoice", 2027, 2),
    ]


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False)
def test_credit_notes_have_their_own_series(owner):
    first = _issue(owner)
    second = _issue(owner)
    assert services.credit_note_create(invoice=first, user=owner.user).number == "CN-2026-0001"
    assert services.credit_note_create(invoice=second, user=owner.user).number == "CN-2026-0002"
    assert _issue(owner).number == "2026-0003"
    assert sorted(DocumentCounter.objects.values_list("series", "year", "last_value")) == [
        ("credit_note", 2026, 2),
        ("invoice", 2026, 3),
    ]


@pytest.mark.django_db
def test_each_workspace_has_its_own_numbers(owner, stranger):
    assert _issue(owner).number == "2026-0001"
    assert _issue(stranger).number == "2026-0001"
    assert _issue(owner).number == "2026-0002"
    assert _issue(stranger).number == "2026-0002"


@pytest.mark.django_db
def test_a_custom_format_is_used(owner):
    owner.workspace.invoice_number_format = "INV/{year}/{seq:05d}"
    owner.workspace.save()
    assert _issue(owner).number == "INV/2026/00001"


@pytest.mark.django_db
def test_a_failed_issue_leaves_no_gap(owner, monkeypatch):
    draft = make_draft(workspace=owner.workspace, user=owner.user)

    def broken_snapshot(workspace):
        # Runs after the number was taken, inside the issuing transaction.
        assert DocumentCounter.objects.get().last_value == 1
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_seller", broken_snapshot)
    with pytest.raises(RuntimeError):
        services.invoice_issue(invoice=draft, user=owner.user, issue_date=MARCH_2)
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", None)
    # The counter row was created in the same transaction: rolled back with it.
    assert not DocumentCounter.objects.exists()
    monkeypatch.undo()

    services.invoice_issue(invoice=draft, user=owner.user, issue_date=MARCH_2)
    draft.refresh_from_db()
    assert draft.number == "2026-0001"


@pytest.mark.django_db
def test_a_format_without_the_sequence_is_refused_on_the_second_issue_without_a_gap(owner):
    owner.workspace.invoice_number_format = "INV-{year}"
    owner.workspace.save()
    assert _issue(owner).number == "INV-2026"
    draft = make_draft(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError) as error:
        services.invoice_issue(invoice=draft, user=owner.user, issue_date=MARCH_2)
    assert "already used" in error.value.message
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert DocumentCounter.objects.get().last_value == 1


@pytest.mark.django_db
def test_a_broken_format_is_a_clear_error(owner):
    owner.workspace.invoice_number_format = "{year}-{number}"
    owner.workspace.save()
    draft = make_draft(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError) as error:
        services.invoice_issue(invoice=draft, user=owner.user, issue_date=MARCH_2)
    assert "{year}-{number}" in error.value.message
    assert not DocumentCounter.objects.exists()


# --- concurrency (PostgreSQL) ----------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises all writers and has no row locks (select_for_update is a "
    "no-op); concurrent issuing is only meaningful on PostgreSQL.",
)


def _in_thread(function, *args):
    """Run in a worker thread with its own connection, and close it before the thread ends
    so the test database can be dropped."""
    try:
        return function(*args)
    finally:
        connection.close()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_200_invoices_issued_from_8_threads_get_numbers_1_to_200(owner):
    client = make_client(owner.workspace)
    drafts = [
        services.invoice_create_draft(
            workspace=owner.workspace, user=owner.user, client=client, lines=[line()]
        )
        for _ in range(200)
    ]

    def issue(draft: Invoice) -> str:
        return _in_thread(
            lambda: (
                services.invoice_issue(invoice=draft, user=owner.user, issue_date=MARCH_2).number
            )
        )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(issue, drafts))
    elapsed = time.monotonic() - started

    sequences = sorted(Invoice.objects.values_list("number_sequence", flat=True))
    assert sequences == list(range(1, 201))  # no gap, no duplicate
    assert sorted(numbers) == [f"2026-{n:04d}" for n in range(1, 201)]
    assert DocumentCounter.objects.get().last_value == 200
    assert not Invoice.objects.filter(status="draft").exists()
    print(f"issued 200 invoices from 8 threads in {elapsed:.2f} s")
    assert elapsed < 30


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_from_time_calls_put_each_entry_on_one_invoice_only(owner):
    client = make_client(owner.workspace)
    project = make_project(client, hourly_rate=D("100.00"))
    tz = owner.workspace.tzinfo
    for hour in range(8, 18):
        make_entry(
            project=project,
            user=owner.user,
            start=dt.datetime(2026, 3, 2, hour, tzinfo=tz),
            minutes=30,
        )

    def create(_):
        def call():
            try:
                return services.invoice_create_from_time(
                    workspace=owner.workspace,
                    user=owner.user,
                    client=client,
                    date_from=None,
                    date_to=None,
                ).pk
            except ApplicationError as error:
                return error.message

        return _in_thread(call)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(create, range(8)))

    created = [result for result in results if isinstance(result, int)]
    assert len(created) == 1
    assert Invoice.objects.count() == 1
    assert set(results) - set(created) <= {
        "No unbilled billable time for this client in that period.",
        "Some of this time was just put on another invoice; please try again.",
    }
    assert TimeEntry.objects.filter(invoice_line__invoice_id=created[0]).count() == 10


@pytest.mark.django_db
def test_numbering_ignores_other_workspaces_counters(owner):
    other = WorkspaceFactory()
    DocumentCounter.objects.create(workspace=other, series="invoice", year=2026, last_value=41)
    assert _issue(owner).number == "2026-0001"
