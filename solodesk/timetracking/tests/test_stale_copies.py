"""An entry is changed or deleted from the row as it is now, not from the caller's copy: a
page or an API request reads the entry, and before its write a draft may take the entry,
or another request change it. The write locks the row and starts from it, so the draft's
line stays and the derived totals (days, months, unbilled time) follow the entry."""

import datetime as dt
from decimal import Decimal

import pytest

from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.tests.factories import make_client, make_project
from solodesk.timetracking.models import TimeEntry, TimeEntryDay, TimeEntryMonth, UnbilledTime
from solodesk.timetracking.services import time_entry_create, time_entry_delete, time_entry_update

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def entry(owner):
    client = make_client(owner.workspace, default_hourly_rate=Decimal("80.00"))
    return time_entry_create(
        workspace=owner.workspace,
        user=owner.user,
        project=make_project(client),
        started_at=START,
        ended_at=START + dt.timedelta(hours=1),
        is_billable=True,
    )


def stale_copy(entry: TimeEntry) -> TimeEntry:
    return TimeEntry.objects.select_related("workspace", "project").get(pk=entry.pk)


def draft_of(owner, entry: TimeEntry):
    """A draft invoice from the client's unbilled time: it takes the entry."""
    return invoicing.invoice_create_from_time(
        workspace=owner.workspace,
        user=owner.user,
        client=entry.project.client,
        date_from=None,
        date_to=None,
        grouping="entry",
    )


def totals(entry: TimeEntry) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(entries, seconds) of the entry's day, month and project's unbilled time."""
    day = TimeEntryDay.objects.get(workspace=entry.workspace_id, user=entry.user_id)
    month = TimeEntryMonth.objects.get(workspace=entry.workspace_id, project=entry.project_id)
    unbilled = UnbilledTime.objects.get(project=entry.project_id)
    return (
        (day.entries, day.seconds),
        (month.entries, month.seconds),
        (
            unbilled.entries,
            unbilled.seconds,
        ),
    )


def test_an_edit_from_a_copy_read_before_a_draft_took_the_entry_keeps_the_draft_line(owner, entry):
    copy = stale_copy(entry)
    draft = draft_of(owner, entry)
    line = draft.lines.get()

    time_entry_update(entry=copy, description="Call with the client")

    entry.refresh_from_db()
    assert entry.invoice_line_id == line.pk
    assert entry.description == "Call with the client"
    assert copy.invoice_line_id == line.pk  # the caller's object is the row as written
    # On the draft: not unbilled time, before the edit and after it.
    assert UnbilledTime.objects.get(project=entry.project_id).entries == 0


def test_edits_from_two_copies_leave_the_totals_equal_to_the_entry(owner, entry):
    first, second = stale_copy(entry), stale_copy(entry)

    time_entry_update(entry=first, ended_at=START + dt.timedelta(hours=2))
    time_entry_update(entry=second, ended_at=START + dt.timedelta(minutes=30))

    entry.refresh_from_db()
    assert entry.duration_seconds == 1800
    assert totals(entry) == ((1, 1800), (1, 1800), (1, 1800))


def test_a_delete_from_a_copy_read_before_an_edit_takes_off_the_edited_time(owner, entry):
    copy = stale_copy(entry)
    time_entry_update(entry=stale_copy(entry), ended_at=START + dt.timedelta(hours=3))

    time_entry_delete(entry=copy)

    assert not TimeEntry.objects.filter(pk=entry.pk).exists()
    assert totals(entry) == ((0, 0), (0, 0), (0, 0))


def test_an_edit_from_a_copy_read_before_the_invoice_was_issued_is_refused(owner, entry):
    copy = stale_copy(entry)
    draft = draft_of(owner, entry)
    invoicing.invoice_issue(invoice=draft, user=owner.user)

    with pytest.raises(ApplicationError, match="on an invoice"):
        time_entry_update(entry=copy, description="Too late")
    with pytest.raises(ApplicationError, match="on an invoice"):
        time_entry_delete(entry=copy)

    entry.refresh_from_db()
    assert entry.description == ""
    assert entry.invoiced_at is not None
