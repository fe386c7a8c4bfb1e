"""The query families the rules share: each is ONE query (the timer: none), aggregated in
SQL and bounded by a LIMIT, so evaluating every rule costs the same at 10 or 1,000,000
rows. A rule needing data none of these return declares its own family in its own file."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Exists, Subquery

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.invoicing.models import Invoice, Payment
from solodesk.invoicing.services import unbilled_entries
from solodesk.projects.models import Project
from solodesk.prompts.registry import RULES, Context, family
from solodesk.quotes.models import Quote
from solodesk.timetracking.models import RunningTimer, TimeEntry, TimeEntryMonth

# At most this many rows per family: prompts are for a person to act on, highest first.
ROW_LIMIT = 50
UNBILLED_AFTER_DAYS = 14
DRAFT_STALE_AFTER_DAYS = 3
QUOTE_EXPIRY_WARNING_DAYS = 5
BUDGET_WARNING = Decimal("0.8")
CENT = Decimal("0.01")
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
BILLING = (Project.BillingMethod.HOURLY, Project.BillingMethod.FIXED)


# --- onboarding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingFacts:
    has_client: bool
    has_project: bool
    has_entry: bool
    has_issued: bool
    has_payment: bool
    has_invoice: bool
    has_quote: bool
    client_id: UUID | None
    project_id: UUID | None
    unbilled_client_id: UUID | None
    draft_id: UUID | None
    open_invoice_id: UUID | None


def _first(qs: Any, field_name: str) -> Subquery:
    return Subquery(qs.values(field_name)[:1])


@family("onboarding")
def onboarding_facts(ctx: Context) -> OnboardingFacts:
    """One query of EXISTS and LIMIT 1 subqueries (each stops at the first row it finds):
    which first steps exist, and the objects the next step's button should open."""
    ws = ctx.workspace
    invoices = Invoice.objects.filter(workspace=ws, kind=Invoice.Kind.INVOICE)
    unbilled = unbilled_entries(workspace=ws)  # invoicing's one definition of "unbilled"
    row = (
        Workspace.objects.filter(pk=ws.pk)
        .values(
            has_client=Exists(Client.objects.filter(workspace=ws)),
            has_project=Exists(Project.objects.filter(workspace=ws)),
            has_entry=Exists(TimeEntry.objects.filter(workspace=ws)),
            has_issued=Exists(
                invoices.exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
            ),
            has_payment=Exists(Payment.objects.filter(invoice__workspace=ws)),
            has_invoice=Exists(Invoice.objects.filter(workspace=ws)),
            has_quote=Exists(Quote.objects.filter(workspace=ws)),
            client_id=_first(
                Client.objects.filter(workspace=ws, is_archived=False).order_by("created_at"),
                "public_id",
            ),
            project_id=_first(
                Project.objects.filter(workspace=ws, is_archived=False).order_by("created_at"),
                "public_id",
            ),
            unbilled_client_id=_first(
                unbilled.order_by("-started_at"), "project__client__public_id"
            ),
            draft_id=_first(
                invoices.filter(status=Invoice.Status.DRAFT).order_by("-created_at"), "public_id"
            ),
            open_invoice_id=_first(
                invoices.filter(status__in=OPEN_STATUSES).order_by("created_at"), "public_id"
            ),
        )
        .get()
    )
    values: dict[str, Any] = {
        key: bool(value) if key.startswith("has_") else _uuid(value) for key, value in row.items()
    }
    return OnboardingFacts(**values)


def _uuid(value: Any) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    return UUID(str(value))


def _absent(ctx: Context, fact: str) -> bool:
    """True when the onboarding query of this evaluation already proved there is nothing
    (a new workspace): the family then skips its query."""
    facts = ctx.known("onboarding")
    return facts is not None and not getattr(facts, fact)


# --- clients: unbilled time and missing details --------------------------------------------


@dataclass(frozen=True)
class ClientRow:
    public_id: UUID
    name: str
    email: str
    payment_terms_days: int | None
    currency: str
    unbilled_entries: int
    unbilled_seconds: int
    # Σ seconds × hourly rate of the hourly projects' unbilled time (÷ 3600 for money).
    unbilled_rate_seconds: Decimal
    first_unbilled_at: dt.datetime | None


@dataclass(frozen=True)
class UnbilledProject:
    """One project's unbilled billable time, with what the dashboard (its unbilled amount,
    priced and rounded per project) and the `clients` family (per client) need: the
    dashboard computes these rows once and hands them to the prompts, so a dashboard reads
    the ~3,600 unbilled entries of a busy workspace once, not twice. The clients and
    projects lists read the same rows for their page's projects (`project_ids`,
    `client_ids`)."""

    project_id: int
    client_id: int
    billing_method: str
    hourly_rate: Decimal | None
    time_rounding_mode: str
    time_rounding_minutes: int | None
    time_rounding_scope: str
    client_public_id: UUID
    client_name: str
    client_email: str
    client_terms: int | None
    client_currency: str
    client_rate: Decimal | None
    client_archived: bool
    entries: int
    seconds: int
    # Σ per entry of its seconds rounded up / to nearest at the project's step (its own
    # rounding minutes, else the workspace's).
    up_seconds: int
    nearest_seconds: int
    first_at: dt.datetime


UNBILLED_PROJECTS = "unbilled_projects"


@functools.lru_cache(maxsize=128)
def _unbilled_projects_sql(project_count: int = 0, client_count: int = 0) -> str:
    """The query of `unbilled_projects`, restricted to `project_count` projects and/or the
    projects of `client_count` clients (0: not restricted)."""
    entry = TimeEntry._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    step = "(COALESCE(p.time_rounding_minutes, %s) * 60)"
    columns = (
        "p.id, p.client_id, p.billing_method, p.hourly_rate, p.time_rounding_mode,"
        " p.time_rounding_minutes, p.time_rounding_scope, c.public_id, c.name, c.email,"
        " c.payment_terms_days, c.currency, c.default_hourly_rate, c.is_archived"
    )
    restrict = ""
    if project_count:
        restrict += f" AND e.project_id IN ({', '.join(['%s'] * project_count)})"
    if client_count:
        # The clients' projects first, each probed in the index (workspace, project): a
        # join on p.client_id read the workspace's whole index (7 ms against 3 at `large`).
        restrict += (
            f" AND e.project_id IN (SELECT id FROM {project} WHERE workspace_id = %s"  # noqa: S608
            f" AND client_id IN ({', '.join(['%s'] * client_count)}))"
        )
    # The entries are aggregated per project first (a narrow hash GROUP BY, read from the
    # partial index alone: it holds project, duration and start), then joined with their
    # project and client. Grouping the joined wide rows sorted 24,000 rows on disk at the
    # `large` seed (177 ms, bench/http_load.py); this way it is an index-only scan.
    return (
        f"SELECT {columns}, u.n, u.s, u.up, u.nearest, u.first FROM ("  # noqa: S608
        f" SELECT e.project_id AS project_id, COUNT(*) AS n, SUM(e.duration_seconds) AS s,"
        f" SUM((e.duration_seconds + {step} - 1) / {step} * {step}) AS up,"
        f" SUM((e.duration_seconds + {step} / 2) / {step} * {step}) AS nearest,"
        f" MIN(e.started_at) AS first"
        f" FROM {entry} e INNER JOIN {project} p ON p.id = e.project_id"
        # `e.is_billable` bare, as in the index's condition: SQLite only uses a partial
        # index when the WHERE implies its condition without bound parameters.
        f" WHERE e.workspace_id = %s AND e.is_billable"
        f" AND e.invoice_line_id IS NULL AND e.invoiced_at IS NULL"
        f" AND p.billing_method <> %s{restrict}"
        f" GROUP BY e.project_id) u"
        f" INNER JOIN {project} p ON p.id = u.project_id"
        f" INNER JOIN {client} c ON c.id = p.client_id"
        f" WHERE p.workspace_id = %s ORDER BY p.id"
    )


def unbilled_projects(
    *,
    workspace: Workspace,
    project_ids: Collection[int] | None = None,
    client_ids: Collection[int] | None = None,
) -> list[UnbilledProject]:
    """ONE query, written by hand (portable SQL; the ORM spent ~2 ms of CPU building and
    compiling it): per billable project (hourly or fixed fee, archived clients included),
    its unbilled billable entries counted and summed (raw, and rounded per entry in integer
    arithmetic exactly as RoundingRule.apply does it: up = ceil(s / step) · step, nearest =
    floor((s + step / 2) / step) · step) and the oldest one's start. The WHERE on the
    entries (their own workspace, the rule of invoicing.services.unbilled_entries) is the
    condition and leading column of the partial index entry_unbilled_idx (timetracking):
    only the workspace's unbilled entries are read. Bounded by the number of projects.

    The one definition of a project's unbilled sums: the dashboard and the prompts read
    every project; the clients and projects lists only their page's (`project_ids`, or
    the projects of `client_ids`; an empty collection is no project, and no query)."""
    if (project_ids is not None and not project_ids) or (client_ids is not None and not client_ids):
        return []
    projects = sorted(project_ids or ())
    clients = sorted(client_ids or ())
    params: list[Any] = [
        *([workspace.time_rounding_minutes] * 6),
        workspace.pk,
        Project.BillingMethod.NON_BILLABLE.value,
        *projects,
        *([workspace.pk, *clients] if clients else []),
        workspace.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_unbilled_projects_sql(len(projects), len(clients)), params)
        rows = cursor.fetchall()
    return [
        UnbilledProject(
            project_id=project_id,
            client_id=client_id,
            billing_method=method,
            hourly_rate=None if rate is None else _decimal(rate),
            time_rounding_mode=mode,
            time_rounding_minutes=minutes,
            time_rounding_scope=scope,
            client_public_id=_uuid(public_id),  # type: ignore[arg-type]
            client_name=name,
            client_email=email,
            client_terms=terms,
            client_currency=currency,
            client_rate=None if client_rate is None else _decimal(client_rate),
            client_archived=bool(archived),
            entries=entries,
            seconds=seconds or 0,
            up_seconds=up or 0,
            nearest_seconds=nearest or 0,
            first_at=_datetime(first),  # type: ignore[arg-type]
        )
        for (
            project_id,
            client_id,
            method,
            rate,
            mode,
            minutes,
            scope,
            public_id,
            name,
            email,
            terms,
            currency,
            client_rate,
            archived,
            entries,
            seconds,
            up,
            nearest,
            first,
        ) in rows
    ]


def _decimal(value: Any) -> Decimal:
    """A stored amount from a raw cursor: Decimal on PostgreSQL; int or float on SQLite
    (through its shortest repr, as Django's SQLite converter does)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _clients_from_projects(ctx: Context, projects: list[UnbilledProject]) -> list[ClientRow]:
    """Branch (a) of the clients family from the dashboard's per-project rows (no query):
    the same filter (hourly or fixed-fee projects of active clients), sums and cutoff."""
    cutoff = ctx.now - dt.timedelta(days=UNBILLED_AFTER_DAYS)
    found: dict[UUID, dict[str, Any]] = {}
    for project in projects:
        if project.client_archived or project.billing_method not in BILLING:
            continue
        row = found.setdefault(
            project.client_public_id,
            {"project": project, "entries": 0, "seconds": 0, "rate": None, "first": None},
        )
        row["entries"] += project.entries
        row["seconds"] += project.seconds
        if project.billing_method == Project.BillingMethod.HOURLY:
            rate = project.hourly_rate if project.hourly_rate is not None else project.client_rate
            if rate is not None:
                row["rate"] = (row["rate"] or Decimal(0)) + project.seconds * rate
        if row["first"] is None or project.first_at < row["first"]:
            row["first"] = project.first_at
    rows = [
        ClientRow(
            public_id=key,
            name=row["project"].client_name,
            email=row["project"].client_email,
            payment_terms_days=row["project"].client_terms,
            currency=row["project"].client_currency,
            unbilled_entries=row["entries"],
            unbilled_seconds=row["seconds"],
            unbilled_rate_seconds=Decimal(row["rate"] or 0),
            first_unbilled_at=row["first"],
        )
        for key, row in found.items()
        if row["first"] < cutoff
    ]
    rows.sort(key=lambda r: (r.first_unbilled_at, r.name))
    return rows


@functools.cache
def _incomplete_clients_sql() -> str:
    client = Client._meta.db_table
    return (
        f"SELECT public_id, name, email, payment_terms_days, currency FROM {client}"  # noqa: S608
        f" WHERE workspace_id = %s AND is_archived = %s"
        f" AND (email = '' OR payment_terms_days IS NULL) ORDER BY name LIMIT %s"
    )


@functools.cache
def _clients_sql() -> str:
    """The clients family written by hand (portable SQL, the same text on PostgreSQL and
    SQLite): the ORM spent ~2 ms of CPU per dashboard building and compiling this union.
    The WHERE of the first branch is the condition of the partial index entry_unbilled_idx
    (timetracking), so only the workspace's unbilled entries are read."""
    entry = TimeEntry._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    return (
        f"SELECT * FROM ("  # noqa: S608
        f"SELECT 0 AS branch, c.public_id AS c_public_id, c.name AS c_name, c.email,"
        f" c.payment_terms_days, c.currency, COUNT(e.id), SUM(e.duration_seconds),"
        f" SUM(CASE WHEN p.billing_method = %s"
        f" THEN e.duration_seconds * COALESCE(p.hourly_rate, c.default_hourly_rate) END),"
        f" MIN(e.started_at) AS first_at"
        f" FROM {entry} e INNER JOIN {project} p ON p.id = e.project_id"
        f" INNER JOIN {client} c ON c.id = p.client_id"
        f" WHERE e.workspace_id = %s AND e.is_billable"  # bare: see _unbilled_projects_sql
        f" AND e.invoice_line_id IS NULL AND e.invoiced_at IS NULL"
        f" AND p.billing_method IN (%s, %s) AND c.is_archived = %s"
        f" GROUP BY c.id, c.public_id, c.name, c.email, c.payment_terms_days, c.currency"
        f" HAVING MIN(e.started_at) < %s"
        f" UNION ALL"
        f" SELECT 1, public_id, name, email, payment_terms_days, currency, 0, 0, 0, NULL"
        f" FROM {client}"
        f" WHERE workspace_id = %s AND is_archived = %s"
        f" AND (email = '' OR payment_terms_days IS NULL)"
        f") clients ORDER BY branch, first_at, c_name LIMIT %s"
    )


@family("clients")
def client_rows(ctx: Context) -> list[ClientRow]:
    """ONE query, a UNION ALL of (a) the unbilled billable time GROUPed BY client — the
    WHERE keeps only unbilled rows before aggregating — for clients whose oldest unbilled
    entry is older than UNBILLED_AFTER_DAYS, and (b) active clients without an e-mail
    address or payment terms. Oldest unbilled time first; a client in both is merged."""
    if _absent(ctx, "has_client"):
        return []
    projects = ctx.known(UNBILLED_PROJECTS)
    if projects is not None:
        return _client_rows_sharing(ctx, projects)
    cutoff = ctx.now - dt.timedelta(days=UNBILLED_AFTER_DAYS)
    params = [
        Project.BillingMethod.HOURLY.value,
        ctx.workspace.pk,
        *(method.value for method in BILLING),
        False,
        connection.ops.adapt_datetimefield_value(cutoff),
        ctx.workspace.pk,
        False,
        2 * ROW_LIMIT,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_clients_sql(), params)
        rows = cursor.fetchall()
    merged: dict[UUID, ClientRow] = {}
    for _branch, public_id, name, email, terms, currency, entries, seconds, rate, first in rows:
        key = _uuid(public_id)
        assert key is not None
        if key in merged:
            continue  # already listed with its unbilled time
        merged[key] = ClientRow(
            public_id=key,
            name=name,
            email=email,
            payment_terms_days=terms,
            currency=currency,
            unbilled_entries=entries or 0,
            unbilled_seconds=seconds or 0,
            unbilled_rate_seconds=_money(rate or 0),
            first_unbilled_at=_datetime(first),
        )
    return list(merged.values())[:ROW_LIMIT]


def _client_rows_sharing(ctx: Context, projects: list[UnbilledProject]) -> list[ClientRow]:
    """The clients family when the dashboard already read the unbilled time per project:
    branch (a) from those rows, branch (b) (clients missing details) in ONE small query.
    The same rows, order and limits as the single UNION ALL."""
    with connection.cursor() as cursor:
        cursor.execute(_incomplete_clients_sql(), [ctx.workspace.pk, False, 2 * ROW_LIMIT])
        incomplete = cursor.fetchall()
    merged: dict[UUID, ClientRow] = {}
    for row in _clients_from_projects(ctx, projects)[: 2 * ROW_LIMIT]:
        merged[row.public_id] = row
    room = 2 * ROW_LIMIT - len(merged)
    for public_id, name, email, terms, currency in incomplete[: max(room, 0)]:
        key = _uuid(public_id)
        assert key is not None
        if key in merged:
            continue  # already listed with its unbilled time
        merged[key] = ClientRow(
            public_id=key,
            name=name,
            email=email,
            payment_terms_days=terms,
            currency=currency,
            unbilled_entries=0,
            unbilled_seconds=0,
            unbilled_rate_seconds=Decimal(0),
            first_unbilled_at=None,
        )
    return list(merged.values())[:ROW_LIMIT]


def _datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- documents: invoices and quotes in one UNION ALL ---------------------------------------


@dataclass(frozen=True)
class DocumentRow:
    category: str  # the rule that raises it
    public_id: UUID
    number: str | None
    client_name: str
    client_id: UUID
    amount: Decimal
    currency: str
    day: dt.date | None  # due date (invoices), valid until (quotes)
    moment: dt.datetime  # created (drafts), issued (invoices), accepted (quotes)


# The rank (the order of urgency) also tells the rule: computed once in SQL for the ORDER
# BY, mapped back here rather than a second CASE per row (fewer expressions to compile).
CATEGORY_OF_RANK = {
    1: "invoice_overdue",
    2: "quote_accepted",
    3: "invoice_not_sent",
    4: "invoice_draft_stale",
    5: "quote_expiring",
}


@functools.cache
def _documents_sql() -> str:
    """The documents family written by hand: the ORM spent ~2–3 ms of CPU per dashboard
    building and compiling this union of CASE / COALESCE annotations. Portable SQL (the
    same text on PostgreSQL and SQLite); the rank is the order of urgency and the rule."""
    invoice = Invoice._meta.db_table
    quote = Quote._meta.db_table
    client = Client._meta.db_table
    overdue = (
        "i.status IN (%s, %s) AND i.due_date < %s AND i.total > i.amount_paid + i.amount_credited"
    )
    return (
        f"SELECT * FROM ("  # noqa: S608
        # Overdue; else issued (so never sent); else a stale draft.
        f"SELECT CASE WHEN {overdue} THEN 1 WHEN i.status = %s THEN 3 ELSE 4 END AS urgency,"
        f" i.public_id, i.number, c.name AS client_name, c.public_id AS client_key,"
        f" i.total - (i.amount_paid + i.amount_credited),"
        f" i.currency, i.due_date AS due_day,"
        f" COALESCE(i.issued_at, i.created_at) AS moment_at"
        f" FROM {invoice} i INNER JOIN {client} c ON c.id = i.client_id"
        f" WHERE i.workspace_id = %s AND i.kind = %s"
        f" AND (({overdue}) OR (i.status = %s AND i.created_at < %s)"
        f" OR (i.status = %s AND i.sent_at IS NULL))"
        f" UNION ALL"
        f" SELECT CASE WHEN q.status = %s THEN 2 ELSE 5 END,"
        f" q.public_id, q.number, c.name, c.public_id, q.total, q.currency, q.valid_until,"
        f" COALESCE(q.accepted_at, q.created_at)"
        f" FROM {quote} q INNER JOIN {client} c ON c.id = q.client_id"
        f" WHERE q.workspace_id = %s"
        f" AND ((q.status = %s AND q.converted_invoice_id IS NULL"
        f" AND q.converted_project_id IS NULL)"
        f" OR (q.status = %s AND q.valid_until >= %s AND q.valid_until <= %s))"
        f") documents ORDER BY urgency, due_day, moment_at LIMIT %s"
    )


@family("documents")
def document_rows(ctx: Context) -> list[DocumentRow]:
    """Invoices overdue, drafts older than 3 days, issued invoices never sent, accepted
    quotes not converted and sent quotes about to expire: ONE query (a UNION ALL of two
    filtered SELECTs), ordered by urgency and limited."""
    if _absent(ctx, "has_invoice") and _absent(ctx, "has_quote"):
        return []
    ops = connection.ops
    today = ops.adapt_datefield_value(ctx.today)
    open_statuses = [status.value for status in OPEN_STATUSES]
    overdue = [*open_statuses, today]
    if _documents_needed(ctx) == {OVERDUE_RANK}:
        # Only the overdue rule reads this family here (the invoice list): its branch alone.
        sql = _overdue_sql()
        params: list[Any] = [ctx.workspace.pk, Invoice.Kind.INVOICE.value, *overdue, ROW_LIMIT]
    else:
        sql, params = _documents_sql(), _documents_params(ctx, today, overdue)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        DocumentRow(
            category=CATEGORY_OF_RANK[rank],
            public_id=_uuid(public_id),  # type: ignore[arg-type]
            number=number,
            client_name=client_name,
            client_id=_uuid(client_key),  # type: ignore[arg-type]
            amount=_money(amount),
            currency=currency,
            day=_date(day),
            moment=_datetime(moment),  # type: ignore[arg-type]
        )
        for rank, public_id, number, client_name, client_key, amount, currency, day, moment in rows
    ]


OVERDUE_RANK = 1


def _documents_needed(ctx: Context) -> set[int]:
    """The ranks (categories) the rules evaluated on this page read from the family."""
    rank_of = {category: rank for rank, category in CATEGORY_OF_RANK.items()}
    return {
        rank_of[rule.name]
        for rule in RULES.values()
        if rule.family == "documents"
        and ctx.placement in rule.placements
        and rule.name not in ctx.skip_rules
        and rule.name in rank_of
    }


@functools.cache
def _overdue_sql() -> str:
    """The overdue branch of `_documents_sql` alone, in the same order (due date, then
    issue moment): the invoice list shows only overdue prompts, and the quotes' and
    drafts' branches cost it a scan of the accepted quotes and a sort of ~4,500 rows at the
    `large` seed."""
    invoice = Invoice._meta.db_table
    client = Client._meta.db_table
    return (
        f"SELECT 1, i.public_id, i.number, c.name, c.public_id,"  # noqa: S608
        f" i.total - (i.amount_paid + i.amount_credited), i.currency, i.due_date,"
        f" COALESCE(i.issued_at, i.created_at)"
        f" FROM {invoice} i INNER JOIN {client} c ON c.id = i.client_id"
        f" WHERE i.workspace_id = %s AND i.kind = %s AND i.status IN (%s, %s)"
        f" AND i.due_date < %s AND i.total > i.amount_paid + i.amount_credited"
        f" ORDER BY i.due_date, COALESCE(i.issued_at, i.created_at) LIMIT %s"
    )


def _documents_params(ctx: Context, today: Any, overdue: list[Any]) -> list[Any]:
    ops = connection.ops
    issued = Invoice.Status.ISSUED.value
    return [
        *overdue,
        issued,
        ctx.workspace.pk,
        Invoice.Kind.INVOICE.value,
        *overdue,
        Invoice.Status.DRAFT.value,
        ops.adapt_datetimefield_value(ctx.now - dt.timedelta(days=DRAFT_STALE_AFTER_DAYS)),
        issued,
        Quote.Status.ACCEPTED.value,
        ctx.workspace.pk,
        Quote.Status.ACCEPTED.value,
        Quote.Status.SENT.value,
        today,
        ops.adapt_datefield_value(ctx.today + dt.timedelta(days=QUOTE_EXPIRY_WARNING_DAYS)),
        ROW_LIMIT,
    ]


def _money(value: Any) -> Decimal:
    """An amount from a raw cursor: Decimal on PostgreSQL; int or float on SQLite, through
    its shortest repr and to the cent as Django's SQLite converter for a money field does."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(CENT)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


# --- projects: budgets ---------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetRow:
    public_id: UUID
    name: str
    client_name: str
    currency: str
    budget_hours: Decimal | None
    budget_amount: Decimal | None
    tracked_seconds: int
    billable_seconds: int
    rate: Decimal | None

    @property
    def hours_ratio(self) -> Decimal | None:
        if not self.budget_hours:
            return None
        return Decimal(self.tracked_seconds) / (self.budget_hours * 3600)

    @property
    def amount_used(self) -> Decimal | None:
        if self.rate is None:
            return None
        return Decimal(self.billable_seconds) * self.rate / 3600

    @property
    def amount_ratio(self) -> Decimal | None:
        used = self.amount_used
        if not self.budget_amount or used is None:
            return None
        return used / self.budget_amount

    @property
    def ratio(self) -> Decimal:
        return max(r for r in (self.hours_ratio, self.amount_ratio, Decimal(0)) if r is not None)


@functools.cache
def _budgets_sql() -> str:
    """The projects family written by hand (portable SQL, the same text on PostgreSQL and
    SQLite): building and compiling it with the ORM cost ~1.5 ms of CPU per dashboard.
    Tracked and billable seconds come from the monthly totals the time-entry services keep
    per project (decision 0005): a project's whole history is a few dozen rows, where
    summing its entries read every one of them (69 ms at 100,000 entries, bench/http_load)."""
    months = TimeEntryMonth._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    tracked = "COALESCE(t.seconds, 0)"
    billable = "COALESCE(t.billable, 0)"
    rate = "COALESCE(p.hourly_rate, c.default_hourly_rate)"
    budgeted = (
        "{0}workspace_id = %s AND {0}is_archived = %s"
        " AND ({0}budget_hours > 0 OR {0}budget_amount > 0)"
    )
    # The monthly rows are summed per project first (a narrow GROUP BY on integers), then
    # joined with the project and client: grouping the joined wide rows by their text and
    # decimal columns cost ~4× as much at the `large` seed (9,300 monthly rows of 330
    # budgeted projects).
    return (
        f"SELECT p.public_id, p.name, c.name, c.currency, p.budget_hours, p.budget_amount,"  # noqa: S608
        f" {tracked}, {billable}, {rate}"
        f" FROM {project} p INNER JOIN {client} c ON c.id = p.client_id"
        f" LEFT OUTER JOIN ("
        f" SELECT m.project_id, SUM(m.seconds) AS seconds, SUM(m.billable_seconds) AS billable"
        f" FROM {months} m"
        f" WHERE m.project_id IN (SELECT id FROM {project} WHERE {budgeted.format('')})"
        f" GROUP BY m.project_id) t ON t.project_id = p.id"
        f" WHERE {budgeted.format('p.')}"
        f" AND ((p.budget_hours > 0 AND {tracked} >= p.budget_hours * %s)"
        f" OR (p.budget_amount > 0 AND {billable} * {rate} >= p.budget_amount * %s))"
        f" ORDER BY p.name, p.id LIMIT %s"
    )


@family("projects")
def budget_rows(ctx: Context) -> list[BudgetRow]:
    """One GROUP BY over the active projects with a budget: those past 80 % of it, in hours
    tracked or in billable time at the project's rate."""
    if _absent(ctx, "has_project"):
        return []
    threshold = BUDGET_WARNING * 3600
    params: list[Any] = [*([ctx.workspace.pk, False] * 2), threshold, threshold, ROW_LIMIT]
    with connection.cursor() as cursor:
        cursor.execute(_budgets_sql(), params)
        rows = cursor.fetchall()
    return [
        BudgetRow(
            public_id=_uuid(public_id),  # type: ignore[arg-type]
            name=name,
            client_name=client_name,
            currency=currency,
            budget_hours=None if budget_hours is None else _decimal(budget_hours),
            budget_amount=None if budget_amount is None else _decimal(budget_amount),
            tracked_seconds=tracked or 0,
            billable_seconds=billable or 0,
            rate=None if rate is None else _decimal(rate),
        )
        for public_id, name, client_name, currency, budget_hours, budget_amount, tracked, billable, rate in rows
    ]


# --- the running timer ---------------------------------------------------------------------


@family("timer")
def running_timer(ctx: Context) -> RunningTimer | None:
    """No query on pages: the authentication backend loaded the user joined with their
    running timer, its project and client. (A user loaded otherwise costs one query.)"""
    try:
        timer = ctx.user.running_timer  # type: ignore[attr-defined]
    except RunningTimer.DoesNotExist:
        return None
    return timer if timer.workspace_id == ctx.workspace.pk else None
