"""The query families the rules share: each is ONE query (the timer: none), aggregated in
SQL and bounded by a LIMIT, so evaluating every rule costs the same at 10 or 1,000,000
rows. A rule needing data none of these return declares its own family in its own file."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from django.db import connection
from django.db.models import Exists, Subquery

from solodesk.accounts.models import TimeRounding, Workspace
from solodesk.clients.models import Client
from solodesk.core.money import CURRENCIES
from solodesk.core.prepared import statement_cursor
from solodesk.invoicing.models import Invoice, Payment
from solodesk.invoicing.services import unbilled_entries
from solodesk.projects.models import Project
from solodesk.prompts.registry import RULES, Context, family
from solodesk.quotes.models import Quote
from solodesk.timetracking.models import (
    UNBILLED_STEPS,
    RunningTimer,
    TimeEntry,
    TimeEntryMonth,
    UnbilledTime,
)

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


class UnbilledProject(NamedTuple):
    """One project's unbilled billable time, with what pricing it needs (its rate, its
    client's, its rounding rule): the projects list reads these rows for its page's
    projects (`project_ids`) and prices them with `dashboard.selectors.dashboard_unbilled`,
    the one definition of that price. The dashboard and the clients list read the same
    sums per client, priced in SQL (`unbilled_clients`). A named tuple: immutable as a
    frozen dataclass, built in a quarter of the time (~1.5 µs a row against ~6, whose 19
    `object.__setattr__` cost ~5 ms of CPU for the 808 rows of a `large` dashboard)."""

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


# A project's effective rounding step, its own minutes when positive, else the workspace's
# (a parameter, at least 1, as RoundingRule.apply takes it); and the per-entry rounded sums
# of `UnbilledTime` at that step (UNBILLED_STEPS = MINUTE_CHOICES: another step gives NULL,
# which the readers refuse). Each `%s` is the workspace's step.
_STEP_SQL = "COALESCE(NULLIF(p.time_rounding_minutes, 0), %s)"
_STEP_UP_SQL = (
    f"CASE {_STEP_SQL} "
    + " ".join(f"WHEN {minutes} THEN u.up_{minutes}" for minutes in UNBILLED_STEPS)
    + " END"
)
_STEP_NEAREST_SQL = (
    f"CASE {_STEP_SQL} "
    + " ".join(f"WHEN {minutes} THEN u.nearest_{minutes}" for minutes in UNBILLED_STEPS)
    + " END"
)


@functools.lru_cache(maxsize=128)
def _unbilled_projects_sql(project_count: int = 0, client_count: int = 0) -> str:
    """The query of `unbilled_projects`, restricted to `project_count` projects and/or the
    projects of `client_count` clients (0: not restricted)."""
    unbilled = UnbilledTime._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    columns = (
        "p.id, p.client_id, p.billing_method, p.hourly_rate, p.time_rounding_mode,"
        " p.time_rounding_minutes, p.time_rounding_scope, c.public_id, c.name, c.email,"
        " c.payment_terms_days, c.currency, c.default_hourly_rate, c.is_archived"
    )
    restrict = ""
    if project_count:
        restrict += f" AND u.project_id IN ({', '.join(['%s'] * project_count)})"
    if client_count:
        restrict += f" AND p.client_id IN ({', '.join(['%s'] * client_count)})"
    # The sums at the effective step (_STEP_UP_SQL, _STEP_NEAREST_SQL): NULL for a step
    # without columns, which unbilled_projects refuses.
    return (
        f"SELECT {columns}, u.entries, u.seconds, {_STEP_UP_SQL}, {_STEP_NEAREST_SQL},"  # noqa: S608
        # The oldest start as text (ISO, in the connection's UTC, as psycopg's own loader
        # needs it), parsed by _datetime: Django's timestamptz loader (Python) cost ~10 µs
        # a value, 8 ms of CPU for the 808 rows at `large`.
        f" CAST(u.first_started_at AS TEXT)"
        f" FROM {unbilled} u INNER JOIN {project} p ON p.id = u.project_id"
        f" INNER JOIN {client} c ON c.id = p.client_id"
        f" WHERE u.workspace_id = %s AND u.entries > 0 AND p.billing_method <> %s{restrict}"
        f" ORDER BY p.id"
    )


def unbilled_projects(
    *,
    workspace: Workspace,
    project_ids: Collection[int] | None = None,
    client_ids: Collection[int] | None = None,
) -> list[UnbilledProject]:
    """ONE query, written by hand (portable SQL; the ORM spent ~2 ms of CPU building and
    compiling it): per billable project (hourly or fixed fee, archived clients included)
    with unbilled billable entries, its row of `UnbilledTime` (decision 0008): the entries
    counted and summed, raw and rounded per entry (up = ceil(s / step) · step, nearest =
    floor((s + step / 2) / step) · step, in the integer arithmetic of RoundingRule.apply)
    at the project's effective step — its own minutes when positive, else the
    workspace's, at least one — and the oldest one's start. One small row per project,
    kept by the services with the entries, instead of aggregating every unbilled entry
    (24,480 at `large`). Bounded by the number of projects.

    The one definition of a project's unbilled sums: the dashboard and the prompts read
    every project; the projects list only its page's (`project_ids`, or the projects of
    `client_ids`; an empty collection is no project, and no query)."""
    if (project_ids is not None and not project_ids) or (client_ids is not None and not client_ids):
        return []
    projects = sorted(project_ids or ())
    clients = sorted(client_ids or ())
    workspace_minutes = max(int(workspace.time_rounding_minutes or 0), 1)
    params: list[Any] = [
        workspace_minutes,
        workspace_minutes,
        workspace.pk,
        Project.BillingMethod.NON_BILLABLE.value,
        *projects,
        *clients,
    ]
    with statement_cursor() as cursor:
        cursor.execute(_unbilled_projects_sql(len(projects), len(clients)), params)
        rows = cursor.fetchall()
    if any(row[16] is None for row in rows):
        # A step outside TimeRounding.MINUTE_CHOICES, written around the services' and
        # forms' validation: no stored sums for it. Wrong money is worse than an error.
        raise ValueError(f"A rounding step without unbilled sums in workspace {workspace.pk}")
    # Positional, in the order of the fields.
    return [
        UnbilledProject(
            project_id,
            client_id,
            method,
            None if rate is None else _decimal(rate),
            mode,
            minutes,
            scope,
            _uuid(public_id),  # type: ignore[arg-type]
            name,
            email,
            terms,
            currency,
            None if client_rate is None else _decimal(client_rate),
            bool(archived),
            entries,
            seconds,
            up,
            nearest,
            _datetime(first),  # type: ignore[arg-type]
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


class UnbilledClient(NamedTuple):
    """One client's unbilled billable time (hourly and fixed-fee projects, archived clients
    included), summed per client in SQL from its projects' rows of `UnbilledTime`: what
    the dashboard's unbilled amount per currency and the `clients` family need, in ~300
    rows at `large` instead of ~800 per-project rows built in Python (~3 ms of CPU)."""

    client_id: int
    public_id: UUID
    name: str
    email: str
    terms: int | None
    currency: str
    archived: bool
    entries: int
    seconds: int
    fixed_fee_seconds: int
    # Hourly projects with no rate on the project or its client: time, no money.
    no_rate_seconds: int
    # Σ per priced hourly project of its amount in the currency's minor unit, as
    # `dashboard.selectors.dashboard_unbilled` prices a project (its rounding rule, hours
    # half-up to 0.001 h × the rate, half-up to the minor unit).
    amount_minor: int
    # Σ seconds × rate in cents of the priced hourly projects, unrounded (the prompts').
    rate_cents_seconds: int
    first_at: dt.datetime


UNBILLED_CLIENTS = "unbilled_clients"


@functools.lru_cache(maxsize=128)
def _unbilled_clients_sql(client_count: int = 0) -> str:
    """The query of `unbilled_clients`: `_unbilled_projects_sql`'s rows priced per project
    in integers and summed per client, for `client_count` clients (0: all). Parameters:
    the workspace's step (at least 1), mode and scope, the step twice more, the
    workspace, the clients."""
    unbilled = UnbilledTime._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    hourly = Project.BillingMethod.HOURLY.value
    fixed = Project.BillingMethod.FIXED.value
    # The project's own setting when it has one, else the workspace's (field by field, as
    # invoicing.services.rounding_rule_for; the step: _STEP_SQL): written once in a
    # derived table, used below.
    mode = "COALESCE(NULLIF(p.time_rounding_mode, ''), %s)"
    scope = "COALESCE(NULLIF(p.time_rounding_scope, ''), %s)"
    # A rate is stored with two decimals (a CHECK keeps it >= 0): its cents are exact.
    cents = "CAST(ROUND(COALESCE(p.hourly_rate, c.default_hourly_rate) * 100) AS BIGINT)"
    per_project = (
        f"SELECT c.id AS client_id, c.public_id AS c_public_id, c.name AS c_name,"  # noqa: S608
        f" c.email AS c_email, c.payment_terms_days AS c_terms, c.currency AS c_currency,"
        f" c.is_archived AS c_archived, p.billing_method, u.entries, u.seconds,"
        f" u.first_started_at, {cents} AS cents, {_STEP_SQL} AS step, {mode} AS mode,"
        f" {scope} AS scope, {_STEP_UP_SQL} AS up, {_STEP_NEAREST_SQL} AS nearest"
        f" FROM {unbilled} u INNER JOIN {project} p ON p.id = u.project_id"
        f" INNER JOIN {client} c ON c.id = p.client_id"
        f" WHERE u.workspace_id = %s AND u.entries > 0"
        f" AND p.billing_method IN ('{hourly}', '{fixed}')"
    )
    if client_count:
        per_project += f" AND p.client_id IN ({', '.join(['%s'] * client_count)})"
    # RoundingRule: none → the seconds; the line's total → rounded once at the step; each
    # entry → the stored sums (integers: ceil(s / step) · step = (s + step - 1) / step · step).
    step_seconds = "(t.step * 60)"
    billed = (
        f"CASE WHEN t.mode = '{TimeRounding.NONE}' THEN t.seconds"
        f" WHEN t.scope = '{TimeRounding.PER_LINE}' THEN"
        f" CASE WHEN t.mode = '{TimeRounding.UP}'"
        f" THEN (t.seconds + {step_seconds} - 1) / {step_seconds} * {step_seconds}"
        f" ELSE (t.seconds + {step_seconds} / 2) / {step_seconds} * {step_seconds} END"
        f" WHEN t.mode = '{TimeRounding.UP}' THEN t.up ELSE t.nearest END"
    )
    # dashboard.selectors._amount_in_minor_units: the hours in thousandths, half-up; × the
    # rate in cents is an amount in 1e-5; half-up to the minor unit, 10^(5 - places).
    # A code money.quantize does not know has 2 places there too.
    divisor = (
        "CASE t.c_currency "
        + " ".join(
            f"WHEN '{code}' THEN {10 ** (5 - places)}"
            for code, (_name, places) in sorted(CURRENCIES.items())
            if places != 2
        )
        + f" ELSE {10 ** (5 - 2)} END"
    )
    priced = f"t.billing_method = '{hourly}' AND t.cents IS NOT NULL"
    amount = f"(2 * ((2000 * ({billed}) + 3600) / 7200) * t.cents + {divisor}) / (2 * {divisor})"
    known_steps = ", ".join(str(minutes) for minutes in UNBILLED_STEPS)
    return (
        f"SELECT t.client_id, t.c_public_id, t.c_name, t.c_email, t.c_terms, t.c_currency,"  # noqa: S608
        f" t.c_archived, SUM(t.entries), SUM(t.seconds),"
        f" SUM(CASE WHEN t.billing_method = '{fixed}' THEN t.seconds ELSE 0 END),"
        f" SUM(CASE WHEN t.billing_method = '{hourly}' AND t.cents IS NULL"
        f" THEN t.seconds ELSE 0 END),"
        f" SUM(CASE WHEN {priced} THEN {amount} ELSE 0 END),"
        f" SUM(CASE WHEN {priced} THEN t.seconds * t.cents ELSE 0 END),"
        f" CAST(MIN(t.first_started_at) AS TEXT),"
        f" SUM(CASE WHEN t.step IN ({known_steps}) THEN 0 ELSE 1 END)"
        f" FROM ({per_project}) t GROUP BY t.client_id, t.c_public_id, t.c_name, t.c_email,"
        f" t.c_terms, t.c_currency, t.c_archived ORDER BY t.client_id"
    )


def unbilled_clients(
    *, workspace: Workspace, client_ids: Collection[int] | None = None
) -> list[UnbilledClient]:
    """ONE query: per client with unbilled billable time, its sums (`UnbilledClient`), the
    projects priced in SQL exactly as `dashboard_unbilled` prices `unbilled_projects`'
    rows (a test compares the two on every rounding mode, scope and step). The dashboard
    reads these once for its unbilled amounts and the `clients` family; the clients list
    for its page's clients (`client_ids`; an empty collection is no client, and no
    query)."""
    if client_ids is not None and not client_ids:
        return []
    clients = sorted(client_ids or ())
    workspace_minutes = max(int(workspace.time_rounding_minutes or 0), 1)
    params: list[Any] = [
        workspace_minutes,
        workspace.time_rounding_mode,
        workspace.time_rounding_scope,
        workspace_minutes,
        workspace_minutes,
        workspace.pk,
        *clients,
    ]
    with statement_cursor() as cursor:
        cursor.execute(_unbilled_clients_sql(len(clients)), params)
        rows = cursor.fetchall()
    if any(row[14] for row in rows):
        # A step outside TimeRounding.MINUTE_CHOICES, written around the services' and
        # forms' validation: no stored sums for it. Wrong money is worse than an error.
        raise ValueError(f"A rounding step without unbilled sums in workspace {workspace.pk}")
    # Sums of integers: PostgreSQL's numeric, SQLite's int.
    return [
        UnbilledClient(
            client_id,
            _uuid(public_id),  # type: ignore[arg-type]
            name,
            email,
            terms,
            currency,
            bool(archived),
            int(entries),
            int(seconds),
            int(fixed_seconds),
            int(no_rate_seconds),
            int(amount_minor),
            int(rate_cents_seconds),
            _datetime(first),  # type: ignore[arg-type]
        )
        for (
            client_id,
            public_id,
            name,
            email,
            terms,
            currency,
            archived,
            entries,
            seconds,
            fixed_seconds,
            no_rate_seconds,
            amount_minor,
            rate_cents_seconds,
            first,
            _unknown_steps,
        ) in rows
    ]


def _decimal(value: Any) -> Decimal:
    """A stored amount from a raw cursor: Decimal on PostgreSQL; int or float on SQLite
    (through its shortest repr, as Django's SQLite converter does)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _clients_from_unbilled(
    ctx: Context, clients: list[UnbilledClient], limit: int
) -> list[ClientRow]:
    """Branch (a) of the clients family from the dashboard's per-client rows (no query):
    the same filter (active clients; the rows hold hourly and fixed-fee time only), sums,
    cutoff, order (oldest unbilled start, then the name) and LIMIT."""
    cutoff = ctx.now - dt.timedelta(days=UNBILLED_AFTER_DAYS)
    due = [row for row in clients if not row.archived and row.first_at < cutoff]
    due.sort(key=lambda row: (row.first_at, row.name))
    return [
        ClientRow(
            public_id=row.public_id,
            name=row.name,
            email=row.email,
            payment_terms_days=row.terms,
            currency=row.currency,
            unbilled_entries=row.entries,
            unbilled_seconds=row.seconds,
            unbilled_rate_seconds=Decimal(0) + Decimal(row.rate_cents_seconds).scaleb(-2),
            first_unbilled_at=row.first_at,
        )
        for row in due[:limit]
    ]


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
    The first branch reads the per-project unbilled time (`UnbilledTime`, decision 0008),
    one row per project, not the entries: Σ seconds × rate per project is the Σ per entry
    (the rate is the project's), as `unbilled_clients` computes it."""
    unbilled = UnbilledTime._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    return (
        f"SELECT * FROM ("  # noqa: S608
        f"SELECT 0 AS branch, c.public_id AS c_public_id, c.name AS c_name, c.email,"
        f" c.payment_terms_days, c.currency, SUM(u.entries), SUM(u.seconds),"
        f" SUM(CASE WHEN p.billing_method = %s"
        f" THEN u.seconds * COALESCE(p.hourly_rate, c.default_hourly_rate) END),"
        f" MIN(u.first_started_at) AS first_at"
        f" FROM {unbilled} u INNER JOIN {project} p ON p.id = u.project_id"
        f" INNER JOIN {client} c ON c.id = p.client_id"
        f" WHERE u.workspace_id = %s AND u.entries > 0"
        f" AND p.billing_method IN (%s, %s) AND c.is_archived = %s"
        f" GROUP BY c.id, c.public_id, c.name, c.email, c.payment_terms_days, c.currency"
        f" HAVING MIN(u.first_started_at) < %s"
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
    projects' rows of UnbilledTime, not the entries — for clients whose oldest unbilled
    entry is older than UNBILLED_AFTER_DAYS, and (b) active clients without an e-mail
    address or payment terms. Oldest unbilled time first; a client in both is merged."""
    if _absent(ctx, "has_client"):
        return []
    clients = ctx.known(UNBILLED_CLIENTS)
    if clients is not None:
        return _client_rows_sharing(ctx, clients)
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
    with statement_cursor() as cursor:
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
            # Sums of bigints: PostgreSQL's numeric.
            unbilled_entries=int(entries or 0),
            unbilled_seconds=int(seconds or 0),
            unbilled_rate_seconds=_money(rate or 0),
            first_unbilled_at=_datetime(first),
        )
    return list(merged.values())[:ROW_LIMIT]


def _client_rows_sharing(ctx: Context, clients: list[UnbilledClient]) -> list[ClientRow]:
    """The clients family when the dashboard already read the unbilled time per client:
    branch (a) from those rows, branch (b) (clients missing details) in ONE small query.
    The same rows, order and limits as the single UNION ALL."""
    with statement_cursor() as cursor:
        cursor.execute(_incomplete_clients_sql(), [ctx.workspace.pk, False, 2 * ROW_LIMIT])
        incomplete = cursor.fetchall()
    merged: dict[UUID, ClientRow] = {}
    for row in _clients_from_unbilled(ctx, clients, 2 * ROW_LIMIT):
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


def _invoices_sql(rank: int, condition: str) -> str:
    """One urgency's invoices, in the family's order (due date, then the moment issued or
    created), cut at ROW_LIMIT. One status per branch, compared for equality: PostgreSQL
    reads the status index in due-date order and stops after ROW_LIMIT rows (an
    incremental sort orders the moments within a due date). Parameters: the workspace,
    the kind, the condition's, the limit."""
    invoice = Invoice._meta.db_table
    return (
        f"SELECT * FROM (SELECT {rank} AS urgency, i.public_id, i.number, i.client_id,"  # noqa: S608
        f" i.total - (i.amount_paid + i.amount_credited) AS amount, i.currency,"
        f" i.due_date AS due_day, COALESCE(i.issued_at, i.created_at) AS moment_at"
        f" FROM {invoice} i WHERE i.workspace_id = %s AND i.kind = %s AND {condition}"
        f" ORDER BY i.due_date, COALESCE(i.issued_at, i.created_at) LIMIT %s) b"
    )


def _quotes_sql(rank: int, condition: str) -> str:
    """One urgency's quotes, in the family's order (valid until, then the moment accepted
    or created), cut at ROW_LIMIT. Parameters: the workspace, the condition's, the limit."""
    quote = Quote._meta.db_table
    return (
        f"SELECT * FROM (SELECT {rank} AS urgency, q.public_id, q.number, q.client_id,"  # noqa: S608
        f" q.total AS amount, q.currency, q.valid_until AS due_day,"
        f" COALESCE(q.accepted_at, q.created_at) AS moment_at"
        f" FROM {quote} q WHERE q.workspace_id = %s AND {condition}"
        f" ORDER BY q.valid_until, COALESCE(q.accepted_at, q.created_at) LIMIT %s) b"
    )


def _union_sql(*branches: str) -> str:
    """The branches' rows in the family's order (urgency, day, moment), the first
    ROW_LIMIT of them, each joined with its client once (not in every branch: fewer joins
    to plan). The first ROW_LIMIT of the union are among each urgency's first ROW_LIMIT."""
    client = Client._meta.db_table
    return (
        f"SELECT d.urgency, d.public_id, d.number, c.name, c.public_id, d.amount,"  # noqa: S608
        f" d.currency, d.due_day, d.moment_at FROM ({' UNION ALL '.join(branches)}) d"
        f" INNER JOIN {client} c ON c.id = d.client_id"
        f" ORDER BY d.urgency, d.due_day, d.moment_at LIMIT %s"
    )


# The ranks are CATEGORY_OF_RANK's. An open invoice is overdue (rank 1) under this
# condition, one branch per open status.
OVERDUE = "i.status = %s AND i.due_date < %s AND i.total > i.amount_paid + i.amount_credited"


@functools.cache
def _documents_sql() -> str:
    """The documents family written by hand (portable SQL, the same text on PostgreSQL and
    SQLite; the ORM spent ~2–3 ms of CPU building and compiling it): one SELECT per
    urgency, each ordered and cut at ROW_LIMIT through an index (the status index; the
    partial indexes of accepted quotes not converted and of issued invoices never sent),
    then the first ROW_LIMIT of their union. Building every candidate (4,452 rows at the
    `large` seed: a scan of the quotes, 1,724 overdue invoices read from the table) and
    sorting them all took ~15 ms; each urgency's first ROW_LIMIT are all the union
    needs."""
    return _union_sql(
        *(_invoices_sql(1, OVERDUE) for _ in OPEN_STATUSES),
        _quotes_sql(
            2,
            "q.status = %s AND q.converted_invoice_id IS NULL AND q.converted_project_id IS NULL",
        ),
        # Issued and never sent, unless overdue (rank 1 already).
        _invoices_sql(
            3,
            "i.status = %s AND i.sent_at IS NULL AND (i.due_date IS NULL OR i.due_date >= %s"
            " OR i.total <= i.amount_paid + i.amount_credited)",
        ),
        _invoices_sql(4, "i.status = %s AND i.created_at < %s"),
        _quotes_sql(5, "q.status = %s AND q.valid_until >= %s AND q.valid_until <= %s"),
    )


@family("documents")
def document_rows(ctx: Context) -> list[DocumentRow]:
    """Invoices overdue, drafts older than 3 days, issued invoices never sent, accepted
    quotes not converted and sent quotes about to expire: ONE query (a UNION ALL of one
    SELECT per urgency, each cut at ROW_LIMIT), ordered by urgency and limited."""
    if _absent(ctx, "has_invoice") and _absent(ctx, "has_quote"):
        return []
    today = connection.ops.adapt_datefield_value(ctx.today)
    if _documents_needed(ctx) == {OVERDUE_RANK}:
        # Only the overdue rule reads this family here (the invoice list): its branches alone.
        sql, params = _overdue_sql(), [*_overdue_params(ctx, today), ROW_LIMIT]
    else:
        sql, params = _documents_sql(), [*_documents_params(ctx, today), ROW_LIMIT]
    with statement_cursor() as cursor:
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
    """The overdue branches of `_documents_sql` alone, in the same order (due date, then
    issue moment): the invoice list shows only overdue prompts, and the other branches
    would cost it four more index reads."""
    return _union_sql(*(_invoices_sql(1, OVERDUE) for _ in OPEN_STATUSES))


def _overdue_params(ctx: Context, today: Any) -> list[Any]:
    kind = Invoice.Kind.INVOICE.value
    return [
        value
        for status in OPEN_STATUSES
        for value in (ctx.workspace.pk, kind, status.value, today, ROW_LIMIT)
    ]


def _documents_params(ctx: Context, today: Any) -> list[Any]:
    """The parameters of `_documents_sql`'s branches, in its order (not its final limit)."""
    ops = connection.ops
    workspace, kind = ctx.workspace.pk, Invoice.Kind.INVOICE.value
    stale = ops.adapt_datetimefield_value(ctx.now - dt.timedelta(days=DRAFT_STALE_AFTER_DAYS))
    expiring = ops.adapt_datefield_value(ctx.today + dt.timedelta(days=QUOTE_EXPIRY_WARNING_DAYS))
    return [
        *_overdue_params(ctx, today),
        *(workspace, Quote.Status.ACCEPTED.value, ROW_LIMIT),
        *(workspace, kind, Invoice.Status.ISSUED.value, today, ROW_LIMIT),
        *(workspace, kind, Invoice.Status.DRAFT.value, stale, ROW_LIMIT),
        *(workspace, Quote.Status.SENT.value, today, expiring, ROW_LIMIT),
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

    @functools.cached_property
    def ratio(self) -> Decimal:
        # Cached on the row (not a field: not compared): both budget rules and the 80 %
        # rule's `also_raised` read it for each of the 50 rows.
        return max(r for r in (self.hours_ratio, self.amount_ratio, Decimal(0)) if r is not None)


@functools.cache
def _budgets_sql() -> str:
    """The projects family written by hand (portable SQL, the same text on PostgreSQL and
    SQLite): building and compiling it with the ORM cost ~1.5 ms of CPU per dashboard.
    Tracked and billable seconds come from the monthly totals the time-entry services keep
    per project (decision 0005): a project's whole history is a few dozen rows, where
    summing its entries read every one of them (69 ms at 100,000 entries, bench/http_load).

    Each project's totals are correlated sums, probed in entry_month_project_idx (the
    project, then its seconds: index-only on PostgreSQL), and the projects are read in
    the order shown (project_list_idx: workspace, archived, name), so PostgreSQL stops
    after the first ROW_LIMIT past their budget: ~120 of the 331 budgeted projects at
    the `large` seed, ~2 ms, where summing every budgeted project's months before sorting
    (9,288 of 52,287 monthly rows, hash-joined) took 15–30 ms. `COALESCE(budget,
    0) > 0` is false, not unknown, without a budget, so the sums are not computed for
    the projects without one."""
    months = TimeEntryMonth._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    tracked, billable = (
        f"COALESCE((SELECT SUM(m.{column}) FROM {months} m WHERE m.project_id = p.id), 0)"  # noqa: S608
        for column in ("seconds", "billable_seconds")
    )
    rate = "COALESCE(p.hourly_rate, c.default_hourly_rate)"
    return (
        f"SELECT p.public_id, p.name, c.name, c.currency, p.budget_hours, p.budget_amount,"  # noqa: S608
        f" {tracked}, {billable}, {rate}"
        f" FROM {project} p INNER JOIN {client} c ON c.id = p.client_id"
        f" WHERE p.workspace_id = %s AND p.is_archived = %s"
        f" AND ((COALESCE(p.budget_hours, 0) > 0 AND {tracked} >= p.budget_hours * %s)"
        f" OR (COALESCE(p.budget_amount, 0) > 0"
        f" AND {billable} * {rate} >= p.budget_amount * %s))"
        f" ORDER BY p.name, p.id LIMIT %s"
    )


@family("projects")
def budget_rows(ctx: Context) -> list[BudgetRow]:
    """ONE query over the active projects with a budget: those past 80 % of it, in hours
    tracked or in billable time at the project's rate, by name."""
    if _absent(ctx, "has_project"):
        return []
    threshold = BUDGET_WARNING * 3600
    params: list[Any] = [ctx.workspace.pk, False, threshold, threshold, ROW_LIMIT]
    with statement_cursor() as cursor:
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
