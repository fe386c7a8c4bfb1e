"""The heaviest queries read their indexes, not the whole table (PostgreSQL only: the plans
are PostgreSQL's). 50,000 time entries over two years are inserted with generate_series,
the tables ANALYZEd, and EXPLAIN of the query as the app sends it must name the intended
index and no sequential scan of the big table. Measured at 1,000,000 entries and 60,000
invoices in docs/performance.md ("Dashboard at 1,000,000 entries")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from solodesk.dashboard.selectors import dashboard_quick_start_projects
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.selectors import invoice_list
from solodesk.prompts.rules.families import unbilled_clients, unbilled_projects
from solodesk.tests.factories import ClientFactory, ProjectFactory
from solodesk.timetracking.models import TimeEntry
from solodesk.timetracking.selectors import TimeEntryFilters, time_entry_list
from solodesk.timetracking.services import time_entries_own_json_rebuild, unbilled_time_rebuild

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="EXPLAIN output and planner choices are PostgreSQL's.",
)

ENTRIES = 50_000


def _fill(owner, *, projects: int = 60) -> None:
    clients = [ClientFactory(workspace=owner.workspace) for _ in range(10)]
    ids = [
        ProjectFactory(client=clients[n % 10], hourly_rate=Decimal("90")).pk
        for n in range(projects)
    ]
    with connection.cursor() as cursor:
        # Two years back from now, one entry every ~21 minutes; older than 45 days invoiced.
        cursor.execute(
            f"INSERT INTO {TimeEntry._meta.db_table} (public_id, created_at, updated_at,"  # noqa: S608
            " started_at, ended_at, duration_seconds, description, is_billable, invoiced_at,"
            " project_id, user_id, workspace_id, own_json)"
            " SELECT gen_random_uuid(), s.at, s.at, s.at, s.at + interval '30 minutes', 1800,"
            " 'Work ' || s.g, s.g %% 8 <> 0,"
            " CASE WHEN s.at < now() - interval '45 days' THEN s.at + interval '30 days' END,"
            " (%s::bigint[])[1 + s.g %% %s], %s, %s, ''"
            " FROM (SELECT g, now() - interval '2 years' + g * (interval '2 years' / %s) AS at"
            " FROM generate_series(0, %s - 1) g) s",
            [ids, len(ids), owner.user.pk, owner.workspace.pk, ENTRIES, ENTRIES],
        )
    # The raw INSERT bypassed the services and the ORM: what they keep, written here.
    time_entries_own_json_rebuild()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TimeEntry._meta.db_table}")
    unbilled_time_rebuild(workspace=owner.workspace)


def _plan(run) -> str:
    """EXPLAIN of the first query `run()` sends, as sent (parameters bound); a prefetch
    that follows it reads by primary key."""
    with CaptureQueriesContext(connection) as queries:
        run()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[0]["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_heaviest_time_queries_read_their_indexes(owner):
    _fill(owner)
    workspace, user = owner.workspace, owner.user
    month_start = timezone.localdate(timezone=workspace.tzinfo).replace(day=1)
    last_month = (month_start - dt.timedelta(days=1)).replace(day=1)

    # The time-entry list, one month, first page (the week view and the API read the same
    # range through the same index).
    month = _plan(
        lambda: list(
            time_entry_list(
                workspace=workspace,
                filters=TimeEntryFilters(date_from=last_month, date_to=month_start),
            )[:50]
        )
    )
    assert "entry_workspace_start_idx" in month, month
    assert "Seq Scan on timetracking_timeentry" not in month, month

    # Unbilled time per project (the dashboard and the prompts): the per-project summary
    # (decision 0008), never the entries. (One workspace's rows are the whole table here,
    # as at the `large` seed: PostgreSQL rightly scans its few pages; among many
    # workspaces it reads the workspace's foreign-key index.)
    unbilled = _plan(lambda: unbilled_projects(workspace=workspace))
    assert "timetracking_unbilledtime" in unbilled, unbilled
    assert "timetracking_timeentry" not in unbilled, unbilled
    # The same rows priced and summed per client, the query the dashboard runs.
    per_client = _plan(lambda: unbilled_clients(workspace=workspace))
    assert "timetracking_unbilledtime" in per_client, per_client
    assert "timetracking_timeentry" not in per_client, per_client

    # Quick starts: the user's latest entries, read backwards from an index on started_at
    # and cut at 200, whatever the user's history. Here one user has all the workspace's
    # entries, so the (user, started_at) and (workspace, started_at) indexes cost the
    # same and PostgreSQL picks either, by the sample ANALYZE took.
    quick = _plan(lambda: dashboard_quick_start_projects(workspace=workspace, user=user))
    assert "Seq Scan on timetracking_timeentry" not in quick, quick
    assert "entry_user_start_idx" in quick or "entry_workspace_start_idx" in quick, quick
    assert quick.count("Limit") == 2, quick  # the 200 entries, then the projects shown


def test_the_invoice_list_reads_an_index(owner):
    client = ClientFactory(workspace=owner.workspace)
    today = timezone.localdate()
    Invoice.objects.bulk_create(
        [
            Invoice(
                workspace=owner.workspace,
                client=client,
                status=Invoice.Status.PAID,
                number=f"2026-{n:05d}",
                currency="EUR",
                issue_date=today - dt.timedelta(days=n // 10),
                total=Decimal("100.00"),
                amount_paid=Decimal("100.00"),
            )
            for n in range(10_000)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Invoice._meta.db_table}")

    plan = _plan(lambda: list(invoice_list(workspace=owner.workspace)[:50]))

    assert "Seq Scan on invoicing_invoice" not in plan, plan

    # A status tab's deep page picks its ids as the list page does (CappedPaginator): from
    # the index, whose `include` holds the status, not by sorting every paid invoice.
    deep = _plan(
        lambda: list(
            invoice_list(workspace=owner.workspace, status=Invoice.Status.PAID).values("pk")[
                5000:5050
            ]
        )
    )

    assert "Index Only Scan using invoice_list_idx" in deep, deep
    assert "Seq Scan on invoicing_invoice" not in deep, deep


def test_the_budgets_and_documents_prompts_read_their_indexes(owner):
    """The projects family probes each project's months in entry_month_project_idx (never
    a scan of every monthly row); the documents family reads each urgency in order from
    an index and stops at its limit (never a scan of the quotes or invoices). Shaped like
    the `large` seed: a third of the projects budgeted, two years of months each; most
    quotes accepted and converted, every issued invoice sent."""
    from solodesk.projects.models import Project
    from solodesk.prompts.registry import Context
    from solodesk.prompts.rules.families import budget_rows, document_rows
    from solodesk.quotes.models import Quote
    from solodesk.timetracking.models import TimeEntryMonth

    workspace = owner.workspace
    clients = [ClientFactory(workspace=workspace) for _ in range(10)]
    Project.objects.bulk_create(
        [
            Project(
                workspace=workspace,
                client=clients[n % 10],
                name=f"Project {n:04d}",
                hourly_rate=Decimal("90"),
                budget_hours=Decimal("10") if n % 3 == 0 else None,
                is_archived=n % 3 == 1,
            )
            for n in range(1500)
        ],
        batch_size=500,
    )
    today = timezone.localdate(timezone=workspace.tzinfo)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TimeEntryMonth._meta.db_table} (workspace_id, project_id, month,"  # noqa: S608
            " entries, seconds, billable_seconds)"
            " SELECT p.workspace_id, p.id, (%s::date - g * interval '1 month')::date, 10, 3600, 3000"
            f" FROM {Project._meta.db_table} p, generate_series(0, 23) g WHERE p.workspace_id = %s",
            [today.replace(day=1), workspace.pk],
        )
    converted = Project.objects.filter(workspace=workspace).first()
    Quote.objects.bulk_create(
        [
            Quote(
                workspace=workspace,
                client=clients[n % 10],
                status=Quote.Status.ACCEPTED if n % 4 else Quote.Status.SENT,
                number=f"Q-{n:05d}",
                currency="EUR",
                valid_until=today + dt.timedelta(days=n % 400 - 200),
                converted_project=converted if n % 4 and n % 25 else None,
            )
            for n in range(5000)
        ],
        batch_size=2000,
    )
    Invoice.objects.bulk_create(
        [
            Invoice(
                workspace=workspace,
                client=clients[n % 10],
                status=Invoice.Status.ISSUED if n % 5 else Invoice.Status.PARTIALLY_PAID,
                number=f"2026-{n:05d}",
                currency="EUR",
                issue_date=today - dt.timedelta(days=n // 10),
                due_date=today - dt.timedelta(days=n // 10 - 14),
                issued_at=timezone.now(),
                sent_at=timezone.now(),
                total=Decimal("100.00"),
            )
            for n in range(5000)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        for model in (Project, TimeEntryMonth, Quote, Invoice):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    ctx = Context(workspace=workspace, user=owner.user)

    budgets = _plan(lambda: budget_rows(ctx))
    assert "entry_month_project_idx" in budgets, budgets
    assert "Seq Scan on timetracking_timeentrymonth" not in budgets, budgets
    # The projects in the order shown, so the first ROW_LIMIT past their budget end it.
    assert "project_list_idx" in budgets, budgets

    documents = _plan(lambda: document_rows(ctx))
    assert "quote_accepted_open_idx" in documents, documents
    assert "invoice_unsent_idx" in documents, documents
    assert "invoice_status_idx" in documents, documents
    assert "Seq Scan on quotes_quote" not in documents, documents
    assert "Seq Scan on invoicing_invoice" not in documents, documents
