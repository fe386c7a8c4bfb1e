"""What the ORM discipline buys: the five main lists built naively vs as shipped.

How to run it (from the project root):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/orm_discipline.py --scale small          # PostgreSQL
    .venv/bin/python bench/orm_discipline.py --scale small              # SQLite
    .venv/bin/python bench/orm_discipline.py --scale medium --runs 50

A throwaway database (bench/common.py) is migrated and seeded with
`solodesk.seed.seed_workspace(scale=...)`, then ANALYZEd. In-process, with Django's test
client logged in as the seeded owner, each list's first page (page size as shipped, 50)
is requested:

- **shipped**: the view as it is: its selector joins (`select_related`), prefetches and
  annotates what the rows show;
- **naive**: the same view and the same template rendering the same rows, with the
  selector the view calls replaced for the run by what a developer writes without the
  discipline: the same filters and ordering but no `select_related`/`prefetch_related`/
  annotations and no stored totals, so every row's client, project, user, tags,
  active-project count, document total (from its lines, with the services' calculation)
  and paid and credited amounts are looked up per row, by the template or by a model
  property (put on the model class for the naive run only and removed after it). The
  naive code lives here only; the app never ships it. Only the list's own rows are made
  naive: the page's fixed queries (session, user, membership, COUNT, menus, prompts) are
  the same in both.

The rows of both pages (each `<tbody>`, CSRF tokens blanked) must be identical, so both
versions show exactly the same thing. Queries are counted and timed once per version by
an execute wrapper (the slowest shipped query is recorded); time is the p50 of `--runs`
requests (after `--warmup`) without the wrapper. Ratios are naive / shipped.

Results: bench/results/orm_discipline-<vendor>.json (or BENCH_RESULTS_DIR).
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from common import (
    database_version,
    django_setup,
    load_average,
    machine_info,
    stats_ms,
    throwaway_database,
    write_result,
)

PAGE_SIZE = 50
EMAIL = "owner@seed.example"
PASSWORD = "seed passphrase 1234"  # noqa: S105 (a throwaway database's user)


# --- the naive versions (bench only) ----------------------------------------------------------


@contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    """Set `target.name` to `value` for the block, then put back what was there (or remove
    it when nothing was)."""
    missing = object()
    original = vars(target).get(name, missing)
    setattr(target, name, value)
    try:
        yield
    finally:
        if original is missing:
            delattr(target, name)
        else:
            setattr(target, name, original)


def _per_row(compute: Callable[[Any], Any]) -> property:
    """A model property computed on first access per row (as a naive developer's property
    with a per-instance cache would be), so a value the template reads twice costs its
    queries once."""
    attribute = f"_naive_{compute.__name__}"

    def getter(self: Any) -> Any:
        if attribute not in self.__dict__:
            self.__dict__[attribute] = compute(self)
        return self.__dict__[attribute]

    return property(getter)


class _TotalFromLines:
    """A document's `total` as a naive model has it: not stored, but computed from its
    lines when read (one query per document, cached per instance), with the calculation
    the services use. Put on the model class for the naive run only: a data descriptor,
    so it wins over the stored column, whose value loading the row sets aside."""

    def __get__(self, document: Any, owner: type) -> Any:
        if document is None:
            return self
        if "_naive_total" not in document.__dict__:
            from solodesk.invoicing.calculation import document_totals

            document.__dict__["_naive_total"] = document_totals(
                document, document.lines.all()
            ).total
        return document.__dict__["_naive_total"]

    def __set__(self, document: Any, value: Any) -> None:
        document.__dict__["_stored_total"] = value


def naive_time_entries(stack: ExitStack) -> None:
    """The entry list without the joins and the tag prefetch: per row the project, its
    client, the user and the tags are each one query."""
    from solodesk.timetracking import selectors

    shipped = selectors.time_entry_list

    def time_entry_list(**kwargs: Any) -> Any:
        return shipped(**kwargs).select_related(None).prefetch_related(None)

    stack.enter_context(patched(selectors, "time_entry_list", time_entry_list))


def _naive_unbilled(workspace: Any, projects: Any) -> Any:
    """Unbilled money as a developer without the discipline computes it: per project, its
    unbilled entries loaded (one query each) and priced in Python, entry by entry, with
    the services' rounding rule and the effective rate (fixed-fee and rate-less time
    unpriced); None when there is no unbilled time."""
    from solodesk.core.money import quantize
    from solodesk.dashboard.selectors import UnbilledAmount
    from solodesk.invoicing.services import hours_from_seconds, rounding_rule_for
    from solodesk.projects.models import Project
    from solodesk.timetracking.models import TimeEntry

    total = None
    for project in projects:
        if project.billing_method == Project.BillingMethod.NON_BILLABLE:
            continue
        durations = [
            entry.duration_seconds
            for entry in TimeEntry.objects.filter(
                project=project, is_billable=True, invoice_line=None, invoiced_at=None
            )
        ]
        if not durations:
            continue
        currency = project.client.currency
        total = total or UnbilledAmount(currency=currency)
        total.entry_count += len(durations)
        total.seconds += sum(durations)
        rate = project.effective_hourly_rate
        if project.billing_method == Project.BillingMethod.FIXED or rate is None:
            total.unpriced_seconds += sum(durations)
            if project.billing_method == Project.BillingMethod.FIXED:
                total.fixed_fee_seconds += sum(durations)
            continue
        billed = rounding_rule_for(workspace=workspace, project=project).billed_seconds(durations)
        total.amount += quantize(hours_from_seconds(billed) * rate, currency)
    return total


def _naive_local_date(moment: Any, workspace: Any) -> Any:
    return None if moment is None else moment.astimezone(workspace.tzinfo).date()


def naive_clients(stack: ExitStack) -> None:
    """The client list without the annotation and without the page's figures: each row
    counts its active projects, sums this year's entries (not the monthly totals), loads
    its projects and each one's unbilled entries to price them, loads its open invoices
    to add up what is owed per currency, and looks up its latest entry."""
    import datetime as dt

    from django.db.models import Q, Sum
    from django.utils import timezone

    from solodesk.clients import selectors
    from solodesk.clients.models import Client
    from solodesk.core.money import quantize
    from solodesk.invoicing.models import Invoice
    from solodesk.timetracking.models import TimeEntry

    def client_list(*, workspace: Any, include_archived: bool = False, search: str = "") -> Any:
        qs = Client.objects.filter(workspace=workspace)
        if not include_archived:
            qs = qs.filter(is_archived=False)
        if search:
            qs = qs.filter(Q(name__icontains=search) | Q(email__icontains=search))
        return qs.order_by("name", "pk")

    def client_list_figures(*, workspace: Any, clients: Any) -> Any:
        return clients  # the rows compute their figures themselves

    def active_project_count(client: Any) -> int:
        return int(client.projects.filter(is_archived=False).count())

    def figures(client: Any) -> Any:
        workspace = client.workspace
        tz = workspace.tzinfo
        today = timezone.localdate(timezone=tz)
        start = dt.datetime(today.year, 1, 1, tzinfo=tz)
        end = dt.datetime(today.year + 1, 1, 1, tzinfo=tz)
        entries = TimeEntry.objects.filter(project__client=client)
        year = entries.filter(started_at__gte=start, started_at__lt=end).aggregate(
            seconds=Sum("duration_seconds")
        )["seconds"]
        owed: dict[str, Decimal] = {}
        for invoice in client.invoices.filter(
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
        ):
            owed[invoice.currency] = owed.get(invoice.currency, Decimal(0)) + (
                invoice.total - invoice.amount_paid - invoice.amount_credited
            )
        last = entries.order_by("-started_at").first()
        return selectors.ClientFigures(
            year_seconds=year or 0,
            unbilled=_naive_unbilled(workspace, client.projects.all()),
            receivables=[
                selectors.Receivable(currency=currency, outstanding=quantize(amount, currency))
                for currency, amount in sorted(owed.items())
            ],
            last_tracked_on=_naive_local_date(last and last.started_at, workspace),
        )

    stack.enter_context(patched(selectors, "client_list", client_list))
    stack.enter_context(patched(selectors, "client_list_figures", client_list_figures))
    stack.enter_context(patched(Client, "active_project_count", _per_row(active_project_count)))
    stack.enter_context(patched(Client, "figures", _per_row(figures)))


def naive_projects(stack: ExitStack) -> None:
    """The project list without the client join and without the page's figures: each row
    loads its client, sums its entries (tracked and billable, not the monthly totals),
    loads its unbilled entries to price them, and looks up its latest entry."""
    from django.db.models import Q, Sum

    from solodesk.projects import selectors
    from solodesk.projects.models import Project
    from solodesk.prompts.rules.families import BudgetRow

    shipped = selectors.project_list

    def project_list(**kwargs: Any) -> Any:
        return shipped(**kwargs).select_related(None)

    def project_list_figures(*, workspace: Any, projects: Any) -> Any:
        return projects  # the rows compute their figures themselves

    def figures(project: Any) -> Any:
        workspace = project.workspace
        sums = project.time_entries.aggregate(
            tracked=Sum("duration_seconds"),
            billable=Sum("duration_seconds", filter=Q(is_billable=True)),
        )
        tracked, billable = sums["tracked"] or 0, sums["billable"] or 0
        last = project.time_entries.order_by("-started_at").first()
        budget = None
        if project.budget_hours or project.budget_amount:
            budget = BudgetRow(
                public_id=project.public_id,
                name=project.name,
                client_name=project.client.name,
                currency=project.client.currency,
                budget_hours=project.budget_hours,
                budget_amount=project.budget_amount,
                tracked_seconds=tracked,
                billable_seconds=billable,
                rate=project.effective_hourly_rate,
            )
        return selectors.ProjectFigures(
            tracked_seconds=tracked,
            billable_seconds=billable,
            last_entry_on=_naive_local_date(last and last.started_at, workspace),
            budget=budget,
            unbilled=_naive_unbilled(workspace, [project]),
        )

    stack.enter_context(patched(selectors, "project_list", project_list))
    stack.enter_context(patched(selectors, "project_list_figures", project_list_figures))
    stack.enter_context(patched(Project, "figures", _per_row(figures)))


def naive_invoices(stack: ExitStack) -> None:
    """The invoice list without the client join and without the stored totals: each row
    loads its client, computes its total from its lines, and sums its payments and its
    credit notes (each credit note's total from its lines too), as the services compute
    what they store in `total`, `amount_paid` and `amount_credited`."""
    from django.db.models import Sum

    from solodesk.core.money import quantize
    from solodesk.invoicing import selectors
    from solodesk.invoicing.models import Invoice

    shipped = selectors.invoice_list
    creditable = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID)

    def paid_and_credited(invoice: Any) -> tuple[Decimal, Decimal]:
        paid = invoice.payments.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
        paid = quantize(Decimal(paid), invoice.currency)
        credit_notes = Invoice.objects.filter(
            credited_invoice=invoice, kind=Invoice.Kind.CREDIT_NOTE, status__in=creditable
        )
        credited = sum((note.total for note in credit_notes), Decimal("0.00"))
        credited = min(
            quantize(Decimal(credited), invoice.currency),
            max(invoice.total - paid, Decimal("0.00")),
        )
        return paid, credited

    class NaiveRows:
        """The page's rows (`selectors.LIST_ROW_COLUMNS`, as the view makes them into
        `InvoiceListRow`s) built from Invoice instances, one row at a time: its client, its
        total from its lines, its payments and credit notes each a query."""

        def __init__(self, invoices: Any) -> None:
            self.invoices = invoices

        def order_by(self, *fields: Any) -> Any:  # the paginator's COUNT
            return self.invoices.order_by(*fields)

        def count(self) -> int:
            return int(self.invoices.count())

        def __len__(self) -> int:
            return self.count()

        def __getitem__(self, page: slice) -> list[tuple[Any, ...]]:
            rows = []
            for invoice in self.invoices[page]:
                total = invoice.total  # from its lines (_TotalFromLines)
                if invoice.status == Invoice.Status.VOID:
                    paid, credited = invoice.amount_paid, invoice.amount_credited
                else:
                    paid, credited = paid_and_credited(invoice)
                rows.append(
                    (
                        *(invoice.public_id, invoice.kind, invoice.status, invoice.number),
                        *(invoice.currency, invoice.issue_date, invoice.due_date),
                        *(total, paid, credited, invoice.client.name),
                    )
                )
            return rows

    def invoice_list_rows(**kwargs: Any) -> Any:
        return NaiveRows(shipped(**kwargs).select_related(None))

    # The shipped page reads its first rows and their count in one prepared query; the naive
    # one through the rows above (the paginator then counts with the ORM).
    stack.enter_context(patched(selectors, "invoice_list_rows", invoice_list_rows))
    stack.enter_context(patched(selectors, "invoice_list_prepared", lambda *a, **k: None))
    stack.enter_context(patched(Invoice, "total", _TotalFromLines()))


def naive_quotes(stack: ExitStack) -> None:
    """The quote list without the client join and the stored total: each row loads its
    client and computes its total from its lines."""
    from solodesk.quotes import selectors
    from solodesk.quotes.models import Quote

    shipped = selectors.quote_list

    def quote_list(**kwargs: Any) -> Any:
        return shipped(**kwargs).select_related(None)

    stack.enter_context(patched(selectors, "quote_list", quote_list))
    stack.enter_context(patched(Quote, "total", _TotalFromLines()))


@dataclass(frozen=True)
class ListPage:
    name: str
    path: str
    naive: Callable[[ExitStack], None]
    per_row: str  # what the naive page looks up per row


LISTS = [
    ListPage(
        "time_entries", "/time/", naive_time_entries, "project, client, user, tags (4 per row)"
    ),
    ListPage(
        "invoices",
        "/invoices/",
        naive_invoices,
        "client, total from lines, payments sum, credit notes (+ their lines) "
        "(4 per row; 2 for a void one)",
    ),
    ListPage(
        "clients",
        "/clients/",
        naive_clients,
        "active project count, workspace, hours this year from the entries, projects, "
        "each project's unbilled entries, open invoices, latest entry "
        "(6 + 1 per project per row)",
    ),
    ListPage(
        "projects",
        "/projects/",
        naive_projects,
        "client, workspace, tracked and billable sums from the entries, latest entry, "
        "unbilled entries (5 per row)",
    ),
    ListPage("quotes", "/quotes/", naive_quotes, "client, total from lines (2 per row)"),
]


# --- measuring ------------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
_TBODY = re.compile(r"<tbody>.*?</tbody>", re.S)
_ROW_ID = re.compile(r'href="[^"]*/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/')


def rows_of(html: str) -> str:
    """The page's table rows, with the (per-render random) CSRF tokens blanked."""
    bodies = _TBODY.findall(html)
    return _CSRF.sub('name="csrfmiddlewaretoken" value=""', "\n".join(bodies))


def measure(http: Any, path: str, runs: int, warmup: int) -> dict[str, Any]:
    from django.db import connection

    for _ in range(warmup):
        assert http.get(path).status_code == 200
    captured: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(timed):
        response = http.get(path)
    assert response.status_code == 200, (path, response.status_code)
    html = response.content.decode()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        http.get(path)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "queries": len(captured),
        "query_ms": round(sum(ms for ms, _sql in captured), 1),
        "slowest_query": {
            "ms": round(max(captured)[0], 1),
            "sql": max(captured)[1][:200],
        },
        "timing": stats_ms(timings, percentiles=(95,), digits=2),
        "rows": rows_of(html),
    }


def compare(page: ListPage, http: Any, runs: int, warmup: int) -> dict[str, Any]:
    shipped = measure(http, page.path, runs, warmup)
    with ExitStack() as stack:
        page.naive(stack)
        naive = measure(http, page.path, runs, warmup)
    assert shipped["rows"] == naive["rows"], f"{page.name}: the naive page shows other rows"
    row_ids = _ROW_ID.findall(shipped["rows"])
    assert row_ids, f"{page.name}: no rows on the page (seed too small?)"
    shipped_p50 = shipped["timing"]["p50_ms"]
    naive_p50 = naive["timing"]["p50_ms"]
    return {
        "path": page.path,
        "rows": len(dict.fromkeys(row_ids)),
        "naive_per_row_lookups": page.per_row,
        "queries_shipped": shipped["queries"],
        "queries_naive": naive["queries"],
        "query_ratio": round(naive["queries"] / shipped["queries"], 1),
        "p50_ms_shipped": shipped_p50,
        "p50_ms_naive": naive_p50,
        "time_ratio": round(naive_p50 / shipped_p50, 1),
        "query_ms_shipped": shipped["query_ms"],
        "query_ms_naive": naive["query_ms"],
        "slowest_query_shipped": shipped["slowest_query"],
        "timing_shipped": shipped["timing"],
        "timing_naive": naive["timing"],
        "target_query_ratio": 20,
        "meets_target": naive["queries"] / shipped["queries"] >= 20,
    }


def seed(scale: str) -> dict[str, Any]:
    from solodesk.seed import seed_workspace

    result = seed_workspace(scale=scale, email=EMAIL, password=PASSWORD)
    return {"seed_counts": dict(result.counts), "seed_s": round(result.seconds, 1)}


def analyze(vendor: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")


def run(args: argparse.Namespace) -> dict[str, Any]:
    with throwaway_database(
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver", DEBUG="false"
    ) as throwaway:
        django_setup(migrate=True)
        from django.core.management import call_command
        from django.test import Client

        from solodesk.accounts.models import User

        call_command("createcachetable", verbosity=0)
        seeded = seed(args.scale)
        analyze(throwaway.vendor)
        http = Client()
        http.force_login(User.objects.get(email=EMAIL))
        load_before = load_average()
        lists = {
            page.name: compare(page, http, args.runs, args.warmup)
            for page in LISTS
            if not args.only or page.name in args.only
        }
        load_after = load_average()
        return {
            "benchmark": "the five main lists, first page (50 rows), naive vs shipped, "
            "in-process (Django test client)",
            "database": throwaway.vendor,
            "database_version": database_version(),
            "scale": args.scale,
            **seeded,
            "runs": args.runs,
            "lists": lists,
            "all_meet_query_target": all(row["meets_target"] for row in lists.values()),
            "load_average_before": load_before,
            "load_average_after": load_after,
            **machine_info(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=[page.name for page in LISTS])
    args = parser.parse_args()
    result = run(args)
    write_result(f"orm_discipline-{result['database']}", result)


if __name__ == "__main__":
    main()
