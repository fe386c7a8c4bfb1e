"""Fill a fresh workspace with years of realistic data, to try Solodesk at scale.

`solodesk seed --scale small|medium|large` (or `seed_workspace(...)`) creates a new user
and workspace (Europe/Berlin, EUR with some USD clients) and writes, in one transaction:

- clients and their projects (hourly, fixed fee, non-billable; old ones archived);
- a team: the owner and, at `medium` and `large`, members of the workspace
  (`member01+<owner>@<domain>`, no usable password), as many as it takes for each person
  to log about seven entries per working day (the scale's total stays exact);
- time entries of each person on their working days (Monday to Friday, the Christmas
  week and a two-week summer holiday of their own off), one after the other from about
  08:00, never past 23:00 local time: 15 minutes to 3 hours each (shorter on busy days),
  descriptions from a vocabulary, some tags, a few non-billable; the daily and monthly
  totals are rebuilt from them at the end;
- invoices from that time: every billable entry older than 45 days is on an issued
  invoice of its project's client (`invoice_line` + `invoiced_at`, one line per project
  and period as "invoice from time" makes them); the last 45 days stay unbilled;
- other invoices (days of consulting, hosting, travel), a few drafts, a few void invoices
  and credit notes; payments: most invoices paid, some partly paid, some overdue;
- quotes with lines (sent, accepted, declined, expired, some expiring in the next days);
- expenses (when the expenses app is installed);
- the owner at work: a timer running for the last one to two hours on the project of
  their latest entry, with a description (a `RunningTimer` row, as `timer_start` writes
  it: not an entry, so not in the daily and monthly totals until it is stopped).

It is as fast as the database allows: rows are generated in Python from a seeded
`random.Random` (the same `--random-seed` gives the same data, apart from public ids,
secret tokens and the password hash, which are never repeated) and written with COPY on PostgreSQL and `executemany` on SQLite,
with primary keys reserved up front so that rows can point at each other without reading
anything back. The figures are those the application computes: totals and tax come from
`solodesk.invoicing.calculation`, numbers are gapless per series and year and the
`DocumentCounter` rows hold the last number used, so the next invoice issued in the app
continues the series; statuses follow the payments and credit notes as `_settle` does.
Once committed, on PostgreSQL, the written tables are vacuumed and analyzed (`VACUUM
(ANALYZE)`, in autocommit), as a database in use would be.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.utils import timezone

from solodesk.accounts.models import Membership, User, Workspace
from solodesk.accounts.selectors import membership_get_current
from solodesk.accounts.services import user_create
from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError
from solodesk.core.money import quantize
from solodesk.invoicing.calculation import LineInput, compute_totals
from solodesk.invoicing.models import (
    DocumentCounter,
    Invoice,
    InvoiceActivity,
    InvoiceLine,
    Payment,
    RevenueMonth,
)
from solodesk.invoicing.services import hours_from_seconds, revenue_months_rebuild
from solodesk.projects.models import Project
from solodesk.quotes.models import (
    QUOTE_NUMBER_FORMAT,
    VALIDITY_DAYS,
    Quote,
    QuoteActivity,
    QuoteLine,
)
from solodesk.timetracking.models import (
    RunningTimer,
    Tag,
    TimeEntry,
    TimeEntryDay,
    own_json_text,
    tags_json,
)
from solodesk.timetracking.services import time_entry_days_rebuild, unbilled_time_rebuild

DEFAULT_EMAIL = "owner@seed.example"
DEFAULT_PASSWORD = "seed passphrase 1234"  # noqa: S105 - printed on purpose: a seed login
TIME_ZONE = "Europe/Berlin"
UNBILLED_DAYS = 45  # entries of the last 45 days are not invoiced yet
VAT_RATE = Decimal("19.00")  # EUR clients (German VAT); USD clients: export, no VAT
PORTAL_TOKEN_BYTES = 32
UTC = dt.UTC
# Written through the ORM, analyzed with the tables written by COPY.
ANALYZED = (Client, Project, DocumentCounter, TimeEntryDay, RevenueMonth)
# Rebuilt with the daily totals (unbilled time: after them), where they exist.
DERIVED = (
    "timetracking.TimeEntryMonth",
    "timetracking.TimeEntryWorkspaceMonth",
    "timetracking.UnbilledTime",
)


@dataclass(frozen=True)
class Scale:
    clients: int
    projects: int
    time_entries: int
    years: int
    invoices: int  # every Invoice row: invoices, credit notes, drafts, void
    quotes: int
    expenses: int
    people: int  # who logs the time: the owner and people - 1 members


# About seven entries per person and working day (~1,160 working days in 5 years, ~230
# in one): 12 people at medium, 120 at large; small is the owner alone (~9 a day).
SCALES: dict[str, Scale] = {
    "small": Scale(3, 10, 2_000, 1, 100, 20, 50, 1),
    "medium": Scale(30, 300, 100_000, 5, 6_000, 500, 1_000, 12),
    "large": Scale(300, 3_000, 1_000_000, 5, 60_000, 5_000, 10_000, 120),
}
DAY_START_HOUR = 8  # local; a person starts up to 90 minutes later and stops by 23:00
DAY_END_HOUR = 23
MAX_TRACKED_SECONDS = 12 * 3600  # per person and day
FIRST_NAMES = [
    "Anna", "Jonas", "Mia", "Paul", "Emma", "Leon", "Lea", "Felix", "Sofia", "Noah",
    "Clara", "Elias", "Lina", "Ben", "Marie", "Luca", "Hanna", "Finn", "Ella", "Max",
]  # fmt: skip
LAST_NAMES = [
    "Schmidt", "Weber", "Fischer", "Wagner", "Becker", "Hoffmann", "Koch", "Richter",
    "Klein", "Wolf", "Neumann", "Braun", "Zimmermann", "Hartmann", "Krüger", "Lange",
]  # fmt: skip


@dataclass
class SeedResult:
    email: str
    workspace_public_id: uuid.UUID
    counts: dict[str, int]
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


# --- vocabulary ----------------------------------------------------------------------------

NAME_FIRST = [
    "Blue", "North", "Bright", "Silver", "Green", "Red", "Atlas", "Nova", "Harbour",
    "Summit", "Cedar", "Orbit", "Pixel", "Granite", "Lumen", "Delta", "Maple", "Falcon",
    "Copper", "Iris",
]  # fmt: skip
NAME_SECOND = [
    "Labs", "Works", "Studio", "Systems", "Digital", "Media", "Logistics", "Analytics",
    "Health", "Foods", "Energy", "Robotics", "Partners", "Ventures", "Commerce",
]  # fmt: skip
LEGAL_EUR = ["GmbH", "AG", "GmbH & Co. KG", "UG", "e.K."]
LEGAL_USD = ["Inc.", "LLC", "Corp."]
CITIES_EUR = ["10115 Berlin", "20095 Hamburg", "80331 München", "50667 Köln", "60311 Frankfurt"]
CITIES_USD = ["New York, NY 10001", "Austin, TX 78701", "Portland, OR 97201"]
PROJECT_KINDS = [
    "Website relaunch", "Mobile app", "Data pipeline", "Support retainer", "Design system",
    "Checkout redesign", "Internal tools", "API integration", "Security audit",
    "Performance review", "Analytics dashboard", "CRM migration", "Brand workshop",
    "Onboarding flow", "Search", "Billing module", "Reporting", "Infrastructure",
]  # fmt: skip
VERBS = [
    "Implement", "Review", "Fix", "Design", "Discuss", "Document", "Deploy", "Test",
    "Refactor", "Plan", "Research", "Prototype",
]  # fmt: skip
OBJECTS = [
    "login page", "checkout flow", "API endpoints", "invoice export", "search filters",
    "data import", "user settings", "email templates", "dashboard charts", "caching",
    "payment webhooks", "mobile layout", "onboarding", "release notes", "CI pipeline",
    "database migration", "access rights", "error handling", "reporting queries",
    "landing page",
]  # fmt: skip
DESCRIPTIONS = [f"{verb} {obj}" for verb in VERBS for obj in OBJECTS] + [
    "Client meeting",
    "Weekly sync",
    "Planning call",
    "Code review",
    "Bug triage",
    "",
]
TAG_NAMES = ["meeting", "development", "design", "admin", "review", "research", "support"]
DURATIONS_MINUTES = [15, 30, 30, 45, 45, 60, 60, 60, 75, 90, 90, 120, 120, 150, 180]
MANUAL_LINES = [
    ("Consulting day", InvoiceLine.Unit.DAYS, (1, 5), (600, 1200)),
    ("Workshop facilitation", InvoiceLine.Unit.DAYS, (1, 3), (900, 1600)),
    ("Hosting and maintenance (monthly)", InvoiceLine.Unit.PIECES, (1, 3), (49, 299)),
    ("Software licence", InvoiceLine.Unit.PIECES, (1, 10), (20, 250)),
    ("Travel costs", InvoiceLine.Unit.PIECES, (1, 1), (80, 450)),
]
ESTIMATES = ["Implementation (estimate)", "Design phase (estimate)", "Testing and launch"]
DECLINE_REASONS = ["Budget moved to next year.", "We went with another offer.", ""]
ACCEPTED_BY = ["Anna Schmidt", "Jonas Weber", "Mia Fischer", "Paul Wagner", "Emma Becker"]
EXPENSE_CATEGORIES = [
    ("software", 0.3, (5, 120)),
    ("travel", 0.2, (20, 600)),
    ("meals", 0.15, (8, 90)),
    ("office", 0.15, (5, 200)),
    ("hardware", 0.1, (50, 2500)),
    ("other", 0.1, (5, 300)),
]
EXPENSE_TEXT = {
    "software": ["Design tool subscription", "Cloud hosting", "IDE licence", "Domain renewal"],
    "travel": ["Train to client", "Flight to workshop", "Hotel", "Taxi"],
    "meals": ["Lunch with client", "Coffee meeting", "Team dinner"],
    "office": ["Coworking day pass", "Printer paper", "Desk lamp"],
    "hardware": ["Laptop", "Monitor", "Test phone", "Keyboard"],
    "other": ["Bank fees", "Professional association", "Books"],
}


# --- writing rows fast ---------------------------------------------------------------------


class _Table:
    """A model's table and the columns a seed writes; any other column gets its field's
    default (or NULL), computed once, so a field added later does not break the seed."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        fields = {str(f.column): f for f in model._meta.concrete_fields}
        unknown = [column for column in columns if column not in fields]
        if unknown:
            raise ApplicationError(f"seed: {model._meta.db_table} has no column {unknown}")
        self.model = model
        self.table = model._meta.db_table
        extra = [
            column
            for column, model_field in fields.items()
            if column not in columns and not model_field.primary_key
        ]
        self.columns: list[str] = [*columns, *extra]
        defaults = []
        for column in extra:
            model_field = fields[column]
            value = model_field.get_default()
            if value is None and not model_field.null:
                raise ApplicationError(f"seed: no value for {self.table}.{column}")
            if isinstance(model_field, models.JSONField):
                value = json.dumps(value)
            defaults.append(value)
        self.extra = tuple(defaults)


NULL = "\\N"  # in COPY's text format
UUID4_MASK = ~((0xC000 << 48) | (0xF000 << 64))  # the variant and version bits …
UUID4_BITS = (0x8000 << 48) | (4 << 76)  # … set as uuid.UUID(version=4) sets them


def _copy_text(value: str) -> str:
    """A string as a column of COPY's text format."""
    for character, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        value = value.replace(character, escaped)
    return value


def _model_exists(label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def _sqlite_value(value: Any) -> Any:
    """What Django's SQLite backend stores for each Python type."""
    kind = type(value)
    if kind is uuid.UUID:
        return value.hex
    if kind is dt.datetime:
        return str(value.astimezone(UTC).replace(tzinfo=None))
    if kind is dt.date:
        return value.isoformat()
    if kind is Decimal:
        return str(value)
    return value


class _Writer:
    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.raw = connection.connection
        self.rows: dict[str, int] = {}
        self.models: list[type[models.Model]] = []
        self.skip_triggers = False
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
                self.skip_triggers = bool(row and row[0])

    def bulk_begin(self) -> None:
        """On PostgreSQL as a superuser, the foreign-key triggers are off while the bulk
        rows are written (one check per row and key would be most of the time); the keys
        are then checked per table in one anti-join each (`bulk_end`)."""
        if self.skip_triggers:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")

    def bulk_end(self) -> None:
        if not self.skip_triggers:
            return  # the database checked every key itself
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            for model in self.models:
                for model_field in model._meta.concrete_fields:
                    if not model_field.is_relation or model_field.related_model is None:
                        continue
                    target = model_field.related_model._meta
                    assert model_field.column and target.pk and target.pk.column
                    quote = connection.ops.quote_name
                    column, table = quote(model_field.column), quote(model._meta.db_table)
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {table} AS c "  # noqa: S608
                        f"WHERE c.{column} IS NOT NULL AND NOT EXISTS ("
                        f"SELECT 1 FROM {quote(target.db_table)} AS p "
                        f"WHERE p.{quote(target.pk.column)} = c.{column})"
                    )
                    orphans = cursor.fetchone()[0]
                    if orphans:
                        raise ApplicationError(
                            f"seed: {orphans} rows of {model._meta.db_table} point at no "
                            f"{target.db_table} ({model_field.column})"
                        )

    def reserve_ids(self, model: type[models.Model], count: int) -> int:
        """The first of `count` primary keys nobody else will use (the rows are written
        with them, so children can point at their parents without reading anything)."""
        if count <= 0:
            return 0
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                # One statement, so another session's nextval can hardly come in between.
                cursor.execute(
                    "SELECT setval(%s, nextval(%s) + %s)", [sequence, sequence, count - 1]
                )
                return int(cursor.fetchone()[0]) - count + 1
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608
            highest = int(cursor.fetchone()[0])
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            return max(highest, int(row[0]) if row else 0) + 1

    def write(self, table: _Table, rows: Iterable[tuple[Any, ...]]) -> int:
        extra = table.extra
        count = 0
        if self.vendor == "postgresql":
            from psycopg import sql
            from psycopg.copy import QueuedLibpqWriter

            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table.table),
                sql.SQL(", ").join([sql.Identifier(column) for column in table.columns]),
            )
            # A thread sends the data while this one formats the next rows.
            with (
                self.raw.cursor() as cursor,
                cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
            ):
                for row in rows:
                    copy.write_row(row + extra if extra else row)
                    count += 1
        else:
            placeholders = ", ".join("?" * len(table.columns))
            insert = (
                f'INSERT INTO "{table.table}" ({", ".join(table.columns)}) '  # noqa: S608
                f"VALUES ({placeholders})"
            )
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(tuple(_sqlite_value(value) for value in row + extra))
                if len(batch) >= 5000:
                    self.raw.executemany(insert, batch)
                    count += len(batch)
                    batch = []
            if batch:
                self.raw.executemany(insert, batch)
                count += len(batch)
        self.rows[table.table] = self.rows.get(table.table, 0) + count
        if table.model not in self.models:
            self.models.append(table.model)
        return count

    def write_text(self, table: _Table, lines: Iterable[str]) -> int:
        """PostgreSQL: rows already in COPY's text format (tab-separated, `\\N` for NULL,
        escaped, one line each, in `table.columns` order with no defaulted column). Python
        formats a million such lines in a few seconds, a fraction of what adapting every
        value with `write_row` costs."""
        assert self.vendor == "postgresql" and not table.extra
        from psycopg import sql
        from psycopg.copy import QueuedLibpqWriter

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.table),
            sql.SQL(", ").join([sql.Identifier(column) for column in table.columns]),
        )
        count = 0
        batch: list[str] = []
        with (
            self.raw.cursor() as cursor,
            cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
        ):
            for line in lines:
                batch.append(line)
                if len(batch) >= 10_000:
                    copy.write("".join(batch))
                    count += len(batch)
                    batch = []
            if batch:
                copy.write("".join(batch))
                count += len(batch)
        self.rows[table.table] = self.rows.get(table.table, 0) + count
        if table.model not in self.models:
            self.models.append(table.model)
        return count

    def tables(self) -> list[str]:
        written: list[type[models.Model]] = [*ANALYZED]
        written += [apps.get_model(label) for label in DERIVED if _model_exists(label)]
        return [*self.rows, *(model._meta.db_table for model in written)]


class _Clock:
    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self.progress = progress or (lambda message: None)
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.phases[name] = round(seconds, 2)
        self.progress(f"  {name:<24} {seconds:7.1f} s")

    def record(self, name: str, started: float) -> None:
        seconds = time.perf_counter() - started
        self.phases[name] = round(seconds, 2)
        self.progress(f"  {name:<24} {seconds:7.1f} s")


# --- the in-memory plan --------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    id: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: Decimal
    project_id: int | None = None
    tracked_seconds: int | None = None
    credited_line_id: int | None = None
    total: Decimal = Decimal("0.00")


@dataclass(slots=True)
class _Invoice:
    client: Client
    kind: str
    status: str
    issue_date: dt.date | None
    lines: list[_Line]
    id: int = 0
    discount_type: str = "none"
    discount_value: Decimal = Decimal("0.00")
    due_date: dt.date | None = None
    number: str | None = None
    number_year: int | None = None
    number_sequence: int | None = None
    subtotal: Decimal = Decimal("0.00")
    discount_amount: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    amount_paid: Decimal = Decimal("0.00")
    amount_credited: Decimal = Decimal("0.00")
    issued_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    paid_on: dt.date | None = None
    voided_at: dt.datetime | None = None
    credited_invoice_id: int | None = None
    notes: str = ""
    payments: list[tuple[Decimal, dt.date]] = field(default_factory=list)
    entry_count: int = 0  # time entries billed (an invoice from time)
    credited_by: _Invoice | None = None  # the credit note of a credited invoice


def _compute(document: Any) -> None:
    totals = compute_totals(
        lines=[LineInput(line.quantity, line.unit_price, line.tax_rate) for line in document.lines],
        currency=document.client.currency,
        discount_type=document.discount_type,
        discount_value=document.discount_value,
    )
    for line, total in zip(document.lines, totals.line_totals, strict=True):
        line.total = total
    document.subtotal = totals.subtotal
    document.discount_amount = totals.discount_amount
    document.tax_total = totals.tax_total
    document.total = totals.total


def _percent_label(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _tax_rate(client: Client) -> Decimal:
    return VAT_RATE if client.currency == "EUR" else Decimal("0.00")


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100 + 1)) / 100


class _Seeder:
    def __init__(self, *, scale: Scale, rng: random.Random, progress, clock: _Clock) -> None:
        self.scale = scale
        self.rng = rng
        self.clock = clock
        self.progress = progress
        self.writer = _Writer()
        self.now = timezone.now()
        self.counts: dict[str, int] = {}
        # Public ids come from their own generator, seeded from the system's randomness:
        # two workspaces seeded with the same --random-seed must not share a public id.
        self.id_rng = random.Random(secrets.randbits(128))

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.id_rng.getrandbits(128), version=4)

    def _at(self, day: dt.date, hour: int, seconds: int = 0) -> dt.datetime:
        """An aware moment on a local day, never in the future."""
        moment = dt.datetime.combine(day, dt.time(hour), self.workspace.tzinfo) + dt.timedelta(
            seconds=seconds
        )
        return min(moment.astimezone(UTC), self.now - dt.timedelta(minutes=1))

    # --- owner, clients, projects, tags -----------------------------------------------------

    def owner(self, *, email: str, password: str) -> None:
        self.user = user_create(
            email=email,
            password=password,
            business_name="Seed Studio",
            address="Torstraße 1\n10119 Berlin\nGermany",
            tax_id="DE123456789",
            default_currency="EUR",
            time_zone=TIME_ZONE,
            payment_details="IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX",
        )
        membership = membership_get_current(user=self.user)
        assert membership is not None
        self.workspace: Workspace = membership.workspace
        self.today = self.now.astimezone(self.workspace.tzinfo).date()
        self.first_day = self.today - dt.timedelta(days=365 * self.scale.years)
        self.cutoff = self.today - dt.timedelta(days=UNBILLED_DAYS)
        self.seller = json.dumps(
            {
                "name": self.workspace.name,
                "address": self.workspace.address,
                "tax_id": self.workspace.tax_id,
                "payment_details": self.workspace.payment_details,
            }
        )

    def team(self) -> None:
        """The members who log time with the owner: users and membership rows, written in
        bulk; their e-mails come from the owner's, their passwords are unusable."""
        self.people: list[int] = [self.user.pk]
        members = self.scale.people - 1
        if members <= 0:
            return
        local, domain = self.user.email.split("@", 1)
        width = max(2, len(str(members)))
        emails = [f"member{n:0{width}d}+{local}@{domain}" for n in range(1, members + 1)]
        if len(emails[-1]) > 254:
            raise ApplicationError(f"{self.user.email} is too long to derive members from.")
        taken = User.objects.filter(email__in=emails).values_list("email", flat=True).first()
        if taken:
            raise ApplicationError(
                f"A user with the e-mail address {taken} already exists; "
                "choose another owner e-mail with --email."
            )
        rng = self.rng
        users = User.objects.bulk_create(
            [
                User(
                    email=email,
                    password=make_password(None),
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                )
                for email in emails
            ]
        )
        if any(user.pk is None for user in users):  # a database without RETURNING
            by_email = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
            for user in users:
                user.pk = by_email[user.email]
        Membership.objects.bulk_create(
            [
                Membership(
                    workspace=self.workspace,
                    user=user,
                    role=Membership.Role.MEMBER,
                    public_id=self._uuid(),
                )
                for user in users
            ]
        )
        self.people += [user.pk for user in users]
        self.counts["members"] = members

    def clients(self) -> None:
        rng = self.rng
        rows = []
        for index in range(self.scale.clients):
            is_usd = index % 5 == 2  # every fifth client pays in US dollars
            name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)}"
            name = f"{name} {rng.choice(LEGAL_USD if is_usd else LEGAL_EUR)}"
            if self.scale.clients > 20:
                name = f"{name} {index + 1:03d}"
            street = f"{rng.choice(NAME_FIRST)}straße {rng.randint(1, 120)}"
            city = rng.choice(CITIES_USD if is_usd else CITIES_EUR)
            rows.append(
                Client(
                    workspace=self.workspace,
                    public_id=self._uuid(),
                    name=name,
                    email=f"billing{index + 1}@client{index + 1}.example",
                    address=f"{street}\n{city}",
                    tax_id="" if is_usd else f"DE{rng.randrange(10**8, 10**9)}",
                    currency="USD" if is_usd else "EUR",
                    payment_terms_days=rng.choice([14, 30, 30, 30, 45]),
                    default_hourly_rate=Decimal(rng.randrange(60, 145, 5)),
                )
            )
        self.client_list = Client.objects.bulk_create(rows)
        self.buyers = {
            client.pk: json.dumps(
                {
                    "name": client.name,
                    "email": client.email,
                    "address": client.address,
                    "tax_id": client.tax_id,
                }
            )
            for client in self.client_list
        }

    def projects(self) -> None:
        rng = self.rng
        days = (self.today - self.first_day).days
        clients = self.client_list
        weights = [1 / (rank + 1) ** 0.7 for rank in range(len(clients))]  # a few big clients
        owners = list(clients) + rng.choices(
            clients, weights=weights, k=max(self.scale.projects - len(clients), 0)
        )
        rows = []
        self.windows: list[tuple[int, int]] = []
        for index, client in enumerate(owners[: self.scale.projects]):
            if index < len(clients):
                # Every client has a retainer that runs through the whole history.
                method, start, end = Project.BillingMethod.HOURLY, 0, days
                name = "Support retainer"
            else:
                roll = rng.random()
                if roll < 0.1:
                    method = Project.BillingMethod.FIXED
                elif roll < 0.2:
                    method = Project.BillingMethod.NON_BILLABLE
                else:
                    method = Project.BillingMethod.HOURLY
                length = rng.randint(60, 900)
                start = rng.randint(-length // 2, days - 20)
                end = min(start + length, days)
                start = max(start, 0)
                name = rng.choice(PROJECT_KINDS)
            if self.scale.projects > 20:
                name = f"{name} {index + 1:04d}"
            elif index >= len(clients):
                name = f"{name} {index + 1}"
            self.windows.append((start, end))
            rows.append(
                Project(
                    workspace=self.workspace,
                    public_id=self._uuid(),
                    client=client,
                    name=name,
                    billing_method=method,
                    hourly_rate=(
                        Decimal(rng.randrange(70, 160, 5))
                        if method == Project.BillingMethod.HOURLY and rng.random() < 0.5
                        else None
                    ),
                    fixed_fee=(
                        Decimal(rng.randrange(2000, 20000, 500))
                        if method == Project.BillingMethod.FIXED
                        else None
                    ),
                    budget_hours=(
                        Decimal(rng.randrange(50, 500, 10))
                        if method == Project.BillingMethod.HOURLY and rng.random() < 0.4
                        else None
                    ),
                    is_archived=end < days - 90,
                )
            )
        self.project_list = Project.objects.bulk_create(rows)
        by_pk = {client.pk: client for client in clients}
        for project in self.project_list:
            project.client = by_pk[project.client_id]
        self.tags = Tag.objects.bulk_create(
            [Tag(workspace=self.workspace, public_id=self._uuid(), name=n) for n in TAG_NAMES]
        )

    # --- time entries -----------------------------------------------------------------------

    def plan_entries(self) -> None:
        """Entries in day order, and within a day person by person, each person's one
        after the other: e_* lists indexed by entry; day_start[d] is the index of the first
        entry on day d (d counted from `first_day`)."""
        rng = self.rng
        total_days = (self.today - self.first_day).days  # today itself is not included
        people = len(self.people)
        closed: set[dt.date] = set()  # the Christmas week: everybody is off
        for year in range(self.first_day.year, self.today.year + 1):
            christmas = dt.date(year, 12, 24)
            closed.update(christmas + dt.timedelta(days=i) for i in range(9))
        summers = [  # each person's two weeks of summer holiday, per year
            {
                year: dt.date(year, 7, 1) + dt.timedelta(days=rng.randint(0, 40))
                for year in range(self.first_day.year, self.today.year + 1)
            }
            for _person in range(people)
        ]
        # One weight per day and person (cell = day * people + person): 0 when off.
        weights: list[float] = []
        uniform, random_ = rng.uniform, rng.random
        for offset in range(total_days):
            day = self.first_day + dt.timedelta(days=offset)
            if day.weekday() >= 5 or day in closed:
                weights += [0.0] * people
                continue
            for person in range(people):
                holiday = 0 <= (day - summers[person][day.year]).days < 14
                working = not holiday and random_() > 0.03
                weights.append(uniform(0.5, 1.5) if working else 0.0)
        total_weight = sum(weights) or 1.0
        wanted = self.scale.time_entries
        per_cell = [int(wanted * weight / total_weight) for weight in weights]
        working_cells = [cell for cell, weight in enumerate(weights) if weight]
        for cell in rng.choices(working_cells, k=wanted - sum(per_cell)):
            per_cell[cell] += 1
        # Which projects run in each 30-day chunk.
        chunks = total_days // 30 + 1
        active: list[list[int]] = [[] for _ in range(chunks)]
        for index, (start, end) in enumerate(self.windows):
            for chunk in range(start // 30, min(end // 30, chunks - 1) + 1):
                active[chunk].append(index)
        projects = self.project_list
        project_billable = [
            p.billing_method != Project.BillingMethod.NON_BILLABLE for p in projects
        ]
        e_project: list[int] = []
        e_user: list[int] = []  # index into self.people
        e_start: list[float] = []
        e_seconds: list[int] = []
        e_billable: list[bool] = []
        e_description: list[int] = []
        day_start: list[int] = []
        add_project, add_start, add_seconds = e_project.append, e_start.append, e_seconds.append
        add_billable, add_description = e_billable.append, e_description.append
        add_user = e_user.append
        durations = [minutes * 60 for minutes in sorted(DURATIONS_MINUTES)]
        gaps = [0, 0, 300, 900, 1800]
        description_count = len(DESCRIPTIONS)
        tzinfo = self.workspace.tzinfo
        working_day = (DAY_END_HOUR - DAY_START_HOUR) * 3600
        for offset in range(total_days):
            day_start.append(len(e_project))
            cells = per_cell[offset * people : (offset + 1) * people]
            if not any(cells):
                continue
            day = self.first_day + dt.timedelta(days=offset)
            opening = dt.datetime.combine(day, dt.time(DAY_START_HOUR), tzinfo).timestamp()
            candidates = active[offset // 30] or [0]
            candidate_count = len(candidates)
            for person, count in enumerate(cells):
                if not count:
                    continue
                # A handful of projects per person and month, not the whole portfolio.
                pool = [
                    candidates[(person * 7 + j) % candidate_count]
                    for j in range(min(candidate_count, 8))
                ]
                pool_count = len(pool)
                # The busier the day, the shorter the entries: at most 12 hours tracked.
                cap = max(900, MAX_TRACKED_SECONDS // count // 900 * 900)
                choices = bisect.bisect_right(durations, cap)
                seconds_list = [durations[int(random_() * choices)] for _ in range(count)]
                late = int(random_() * 5400)
                free = working_day - late - sum(seconds_list)  # the pauses, until 23:00
                at = opening + late
                for seconds in seconds_list:
                    project = pool[int(random_() * pool_count)]
                    add_project(project)
                    add_user(person)
                    add_start(at)
                    add_seconds(seconds)
                    add_billable(project_billable[project] and random_() > 0.03)
                    add_description(int(random_() * description_count))
                    gap = min(gaps[int(random_() * 5)], free)
                    free -= gap
                    at += seconds + gap
        day_start.append(len(e_project))
        self.total_days = total_days
        self.e_project, self.e_start, self.e_seconds = e_project, e_start, e_seconds
        self.e_billable, self.e_description, self.day_start = e_billable, e_description, day_start
        self.e_user = e_user
        self.e_line: list[int | None] = [None] * len(e_project)

    # --- invoices ---------------------------------------------------------------------------

    def plan_invoices(self) -> None:
        rng = self.rng
        scale = self.scale
        drafts = max(2, scale.invoices // 1000)
        credit_notes = max(2, scale.invoices // 500)
        voids = max(1, scale.invoices // 1000)
        manual_minimum = scale.invoices // 10
        target = scale.invoices - drafts - credit_notes - voids - manual_minimum
        cutoff_day = (self.cutoff - self.first_day).days
        projects = self.project_list
        project_client = [project.client_id for project in projects]
        e_billable, e_project, day_start = self.e_billable, self.e_project, self.day_start
        # The local days on which each client has billable time before the cutoff.
        client_days: dict[int, set[int]] = {}
        for day in range(cutoff_day):
            for index in range(day_start[day], day_start[day + 1]):
                if e_billable[index]:
                    client_days.setdefault(project_client[e_project[index]], set()).add(day)

        def invoices_for(period: int) -> int:
            return sum(len({day // period for day in days}) for days in client_days.values())

        low, high = 1, max(cutoff_day, 1)
        while low < high:  # the shortest billing period that stays within the target
            middle = (low + high) // 2
            if invoices_for(middle) <= target:
                high = middle
            else:
                low = middle + 1
        period = low
        next_line = [0]  # plan ids 1..n; the real ids are reserved when the count is known

        def line(**kwargs: Any) -> _Line:
            next_line[0] += 1
            return _Line(id=next_line[0], **kwargs)

        # Group billable entries per period, client and project, as "invoice from time"
        # groups them by project.
        groups: list[tuple[int, Client, dict[int, list[int]]]] = []
        fixed_groups: dict[int, int] = {}
        for first in range(0, cutoff_day, period):
            last = min(first + period, cutoff_day)
            by_client: dict[int, dict[int, list[int]]] = {}
            for index in range(day_start[first], day_start[last]):
                if e_billable[index]:
                    chosen = e_project[index]
                    client_id = project_client[chosen]
                    by_client.setdefault(client_id, {}).setdefault(chosen, []).append(index)
            for client_id in sorted(by_client):
                by_project = by_client[client_id]
                for chosen in by_project:
                    if projects[chosen].billing_method == Project.BillingMethod.FIXED:
                        fixed_groups[chosen] = fixed_groups.get(chosen, 0) + 1
                groups.append((last, projects[next(iter(by_project))].client, by_project))
        invoices: list[_Invoice] = []
        for last, client, by_project in groups:
            lines = []
            order = sorted(by_project, key=lambda p: (projects[p].name, projects[p].pk))
            for project_index in order:
                project = projects[project_index]
                entries = by_project[project_index]
                seconds = sum(self.e_seconds[i] for i in entries)
                if project.billing_method == Project.BillingMethod.FIXED:
                    assert project.fixed_fee is not None
                    percent = (Decimal(100) / fixed_groups[project_index]).quantize(
                        Decimal("0.01"), rounding=ROUND_DOWN
                    )
                    label = f"{project.name} — fixed fee"
                    if percent != 100:
                        label += f" ({_percent_label(percent)} %)"
                    new = line(
                        description=label,
                        quantity=Decimal("1.000"),
                        unit=InvoiceLine.Unit.PIECES,
                        unit_price=quantize(project.fixed_fee * percent / 100, client.currency),
                        tax_rate=_tax_rate(client),
                        project_id=project.pk,
                        tracked_seconds=seconds,
                    )
                else:
                    rate = project.effective_hourly_rate
                    assert rate is not None
                    first_day = self._entry_day(entries[0])
                    last_day = self._entry_day(entries[-1])
                    period_label = first_day.isoformat()
                    if last_day != first_day:
                        period_label = f"{first_day.isoformat()} – {last_day.isoformat()}"
                    new = line(
                        description=f"{project.name} — {period_label}"[:500],
                        quantity=hours_from_seconds(seconds),
                        unit=InvoiceLine.Unit.HOURS,
                        unit_price=rate,
                        tax_rate=_tax_rate(client),
                        project_id=project.pk,
                        tracked_seconds=seconds,
                    )
                lines.append(new)
                for index in entries:
                    self.e_line[index] = new.id
            end = self.first_day + dt.timedelta(days=last - 1)
            issue = min(end + dt.timedelta(days=rng.randint(1, 4)), self.today)
            billed = sum(len(entries) for entries in by_project.values())
            invoices.append(_Invoice(client, "invoice", "issued", issue, lines, entry_count=billed))
        manual = scale.invoices - drafts - credit_notes - voids - len(invoices)
        span = (self.today - self.first_day).days
        kinds = ["recent"] + ["manual"] * (manual - 1) + ["void"] * voids + ["draft"] * drafts
        for kind in kinds:
            client = rng.choice(self.client_list)
            lines = []
            for _position in range(rng.randint(1, 3)):
                text, unit, (q_low, q_high), (p_low, p_high) = rng.choice(MANUAL_LINES)
                lines.append(
                    line(
                        description=text,
                        quantity=Decimal(rng.randint(q_low, q_high)).quantize(Decimal("0.001")),
                        unit=unit,
                        unit_price=Decimal(rng.randrange(p_low, p_high + 1)),
                        tax_rate=_tax_rate(client),
                    )
                )
            if kind == "draft":
                invoices.append(_Invoice(client, "invoice", "draft", None, lines))
            else:
                issue = self.first_day + dt.timedelta(days=rng.randint(10, span))
                if kind == "recent":  # at least one invoice is issued and not due yet
                    issue = self.today - dt.timedelta(days=rng.randint(0, 7))
                status = "void" if kind == "void" else "issued"
                invoices.append(_Invoice(client, "invoice", status, issue, lines))
        for invoice in invoices:
            if rng.random() < 0.03:
                invoice.discount_type = "percent"
                invoice.discount_value = Decimal("5.00")
            _compute(invoice)
        self._settle_all(invoices, credit_notes, line)
        self.invoices = invoices
        self.line_count = next_line[0]

    def _entry_day(self, index: int) -> dt.date:
        return dt.datetime.fromtimestamp(self.e_start[index], self.workspace.tzinfo).date()

    def _settle_all(self, invoices: list[_Invoice], credit_notes: int, line) -> None:
        """Due dates, payments and statuses; then the credit notes; then the numbers."""
        rng = self.rng
        today = self.today
        issued = [i for i in invoices if i.status == "issued"]
        for invoice in invoices:
            if invoice.issue_date is None:
                continue
            terms = invoice.client.payment_terms_days or self.workspace.payment_terms_days
            invoice.due_date = invoice.issue_date + dt.timedelta(days=terms)
        for invoice in issued:
            assert invoice.due_date is not None and invoice.issue_date is not None
            age = (today - invoice.issue_date).days
            roll = rng.random()
            if invoice.due_date >= today:  # not due yet
                outcome = "paid" if roll < 0.4 else "partial" if roll < 0.5 else "open"
            elif age > 365:
                outcome = "paid" if roll < 0.995 else "open"
            else:
                outcome = "paid" if roll < 0.86 else "partial" if roll < 0.92 else "open"
            self._pay(invoice, outcome)
        # Always at least two overdue invoices, one partly paid and one not due yet.
        overdue = [i for i in issued if i.status == "issued" and i.due_date < today]  # type: ignore[operator]
        past = sorted((i for i in issued if i.due_date < today), key=lambda i: i.issue_date)  # type: ignore[operator,arg-type,return-value]
        for invoice in past[-12:-2:3]:
            if len(overdue) >= 3:
                break
            if invoice.status != "issued":
                self._pay(invoice, "open")
                overdue.append(invoice)
        if not any(i.status == "partially_paid" for i in issued) and past:
            self._pay(past[-1], "partial")
        not_due = [i for i in issued if i.due_date >= today]  # type: ignore[operator]
        if not_due and not any(i.status == "issued" for i in not_due):
            self._pay(not_due[-1], "open")
        # Credit notes: a full credit of an overdue invoice (it becomes settled), or of a
        # paid one (recorded; the client is owed a refund, which is not tracked).
        self.credit_notes: list[_Invoice] = []
        candidates = [i for i in overdue if i.status == "issued"]
        rng.shuffle(candidates)
        paid = [i for i in issued if i.status == "paid"]
        for number in range(credit_notes):
            if (len(candidates) > 2 and number % 2 == 0) or not paid:
                original = candidates.pop()
            else:
                original = paid.pop(rng.randrange(len(paid)))
            start = original.paid_on or original.due_date
            assert start is not None
            date = min(start + dt.timedelta(days=rng.randint(3, 40)), today)
            note = _Invoice(
                original.client,
                "credit_note",
                "issued",
                date,
                [
                    line(
                        description=source.description,
                        quantity=source.quantity,
                        unit=source.unit,
                        unit_price=source.unit_price,
                        tax_rate=source.tax_rate,
                        project_id=source.project_id,
                        credited_line_id=source.id,
                    )
                    for source in original.lines
                ],
                discount_type=original.discount_type,
                discount_value=original.discount_value,
                due_date=date,
                notes="Cancelled by agreement with the client.",
            )
            _compute(note)
            note.credited_invoice_id = id(original)  # resolved to the pk once numbered
            original.credited_by = note
            if original.status == "issued":
                original.amount_credited = min(note.total, original.total)
                original.status = "paid"
                original.paid_on = date
            self.credit_notes.append(note)
            invoices.append(note)
        # Numbers follow the issue dates, gapless per series and year.
        self.counters: dict[tuple[str, int], int] = {}
        numbered = sorted(
            (i for i in invoices if i.status != "draft"),
            key=lambda i: (i.issue_date, i.kind == "credit_note"),
        )
        base = self.writer.reserve_ids(Invoice, len(invoices))
        by_object = {}
        for offset, invoice in enumerate(numbered):
            invoice.id = base + offset
            by_object[id(invoice)] = invoice.id
            assert invoice.issue_date is not None
            series = invoice.kind
            year = invoice.issue_date.year
            sequence = self.counters[series, year] = self.counters.get((series, year), 0) + 1
            number_format = (
                self.workspace.credit_note_number_format
                if series == "credit_note"
                else self.workspace.invoice_number_format
            )
            invoice.number = number_format.format(year=year, seq=sequence)
            invoice.number_year, invoice.number_sequence = year, sequence
            invoice.issued_at = self._at(invoice.issue_date, 10, offset % 3600)
            invoice.created_at = invoice.issued_at
            if invoice.status == "void":
                invoice.voided_at = min(invoice.issued_at + dt.timedelta(days=2), self.now)
        for offset, invoice in enumerate(i for i in invoices if i.status == "draft"):
            invoice.id = base + len(numbered) + offset
            invoice.created_at = self.now - dt.timedelta(days=rng.randint(1, 20), minutes=offset)
        for note in self.credit_notes:
            assert note.credited_invoice_id is not None
            note.credited_invoice_id = by_object[note.credited_invoice_id]

    def _pay(self, invoice: _Invoice, outcome: str) -> None:
        rng = self.rng
        assert invoice.issue_date is not None
        invoice.payments = []
        invoice.amount_paid = Decimal("0.00")
        invoice.paid_on = None
        invoice.status = "issued"
        latest = (self.today - invoice.issue_date).days
        if outcome == "open" or latest < 1:
            return
        if outcome == "paid":
            day = invoice.issue_date + dt.timedelta(days=rng.randint(1, min(latest, 45)))
            if rng.random() < 0.1 and invoice.total >= 2:
                first = quantize(invoice.total / 2, invoice.client.currency)
                earlier = invoice.issue_date + dt.timedelta(
                    days=rng.randint(1, max(1, (day - invoice.issue_date).days))
                )
                invoice.payments = [(first, min(earlier, day)), (invoice.total - first, day)]
            else:
                invoice.payments = [(invoice.total, day)]
            invoice.amount_paid = invoice.total
            invoice.status = "paid"
            invoice.paid_on = max(date for _amount, date in invoice.payments)
        else:
            share = Decimal(rng.randint(20, 80)) / 100
            amount = quantize(invoice.total * share, invoice.client.currency)
            if amount <= 0 or amount >= invoice.total:
                return
            day = invoice.issue_date + dt.timedelta(days=rng.randint(1, min(latest, 45)))
            invoice.payments = [(amount, day)]
            invoice.amount_paid = amount
            invoice.status = "partially_paid"

    def write_invoices(self) -> None:
        rng = self.rng
        writer = self.writer
        ws, owner = self.workspace.pk, self.user.pk
        first_line = writer.reserve_ids(InvoiceLine, self.line_count)
        self.line_offset = first_line - 1  # plan ids 1..n become first_line..
        table = _Table(
            Invoice,
            [
                "id", "public_id", "created_at", "updated_at", "workspace_id", "client_id",
                "kind", "credited_invoice_id", "status", "number", "number_year",
                "number_sequence", "currency", "issue_date", "due_date", "discount_type",
                "discount_value", "notes", "seller", "buyer", "subtotal", "discount_amount",
                "tax_total", "total", "amount_paid", "amount_credited", "issued_at",
                "paid_on", "voided_at", "sent_at", "portal_token",
            ],
        )  # fmt: skip
        ordered = sorted(self.invoices, key=lambda i: i.id)

        def invoice_rows() -> Iterator[tuple[Any, ...]]:
            for i in ordered:
                is_sent = i.kind == "invoice" and i.status != "draft"
                updated = i.voided_at or i.created_at
                yield (
                    i.id, self._uuid(), i.created_at, updated, ws, i.client.pk, i.kind,
                    i.credited_invoice_id, i.status, i.number, i.number_year,
                    i.number_sequence, i.client.currency, i.issue_date, i.due_date,
                    i.discount_type, i.discount_value, i.notes,
                    self.seller if i.status != "draft" else "{}",
                    self.buyers[i.client.pk] if i.status != "draft" else "{}",
                    i.subtotal, i.discount_amount, i.tax_total, i.total, i.amount_paid,
                    i.amount_credited, i.issued_at, i.paid_on, i.voided_at,
                    i.issued_at if is_sent else None,
                    secrets.token_urlsafe(PORTAL_TOKEN_BYTES) if is_sent else None,
                )  # fmt: skip

        writer.write(table, invoice_rows())
        offset = self.line_offset
        line_table = _Table(
            InvoiceLine,
            [
                "id", "public_id", "position", "description", "quantity", "unit",
                "unit_price", "tax_rate", "total", "invoice_id", "project_id",
                "tracked_seconds", "credited_line_id",
            ],
        )  # fmt: skip

        def line_rows() -> Iterator[tuple[Any, ...]]:
            for i in ordered:
                for position, line in enumerate(i.lines):
                    yield (
                        line.id + offset, self._uuid(), position, line.description,
                        line.quantity, line.unit, line.unit_price, line.tax_rate, line.total,
                        i.id, line.project_id, line.tracked_seconds,
                        line.credited_line_id + offset if line.credited_line_id else None,
                    )  # fmt: skip

        # Lines in id order, so a credit note's line comes after the line it credits.
        writer.write(line_table, sorted(line_rows(), key=lambda row: row[0]))
        payment_table = _Table(
            Payment,
            [
                "public_id", "created_at", "updated_at", "invoice_id", "amount", "date",
                "method", "reference", "recorded_by_id",
            ],
        )  # fmt: skip
        methods = [Payment.Method.BANK_TRANSFER] * 8 + [Payment.Method.CARD, Payment.Method.OTHER]

        activities: list[tuple[Any, ...]] = []
        record = InvoiceActivity.Action

        def payment_rows() -> Iterator[tuple[Any, ...]]:
            for i in ordered:
                for amount, day in i.payments:
                    at = self._at(day, 15, rng.randint(0, 7200))
                    message = f"Payment of {amount} {i.client.currency} on {day.isoformat()}."
                    activities.append((i.id, owner, record.PAYMENT_RECORDED, message, at))
                    yield (
                        self._uuid(), at, at, i.id, amount, day, rng.choice(methods),
                        f"Remittance {i.number}", owner,
                    )  # fmt: skip

        self.counts["payments"] = writer.write(payment_table, payment_rows())
        # The history the services would have written, as each invoice page shows it.
        credited = {id(o.credited_by): o for o in ordered if o.credited_by is not None}
        for i in ordered:
            if i.kind == "credit_note" and i.issued_at:
                original = credited[id(i)]
                reason = f" {i.notes}" if i.notes else ""
                message = f"Issued as {i.number}, crediting {original.number}.{reason}"
                activities.append((i.id, owner, record.ISSUED, message, i.issued_at))
                message = f"Credit note {i.number} for {len(i.lines)} of "
                message += f"{len(original.lines)} lines.{reason}"
                activities.append((original.id, owner, record.CREDITED, message, i.issued_at))
                continue
            assert i.created_at is not None
            created = i.issued_at - dt.timedelta(hours=1) if i.issued_at else i.created_at
            message = (
                f"Draft created from {i.entry_count} time entries."
                if i.entry_count
                else "Draft created."
            )
            activities.append((i.id, owner, record.CREATED, message, created))
            if i.issued_at:
                message = f"Issued as {i.number}."
                activities.append((i.id, owner, record.ISSUED, message, i.issued_at))
            if i.voided_at:
                activities.append((i.id, owner, record.VOIDED, "Voided.", i.voided_at))
        activity_table = _Table(
            InvoiceActivity, ["invoice_id", "actor_id", "action", "message", "created_at"]
        )
        self.counts["invoice_activities"] = writer.write(activity_table, iter(activities))
        DocumentCounter.objects.bulk_create(
            [
                DocumentCounter(workspace=self.workspace, series=series, year=year, last_value=n)
                for (series, year), n in sorted(self.counters.items())
            ]
        )
        self.counts["invoices"] = len(ordered)
        self.counts["credit_notes"] = len(self.credit_notes)
        self.counts["draft_invoices"] = sum(i.status == "draft" for i in ordered)
        self.counts["invoice_lines"] = self.line_count
        self.issued_at_by_line: dict[int, dt.datetime] = {}
        for i in ordered:
            if i.kind == "invoice" and i.status != "draft" and i.issued_at is not None:
                for line in i.lines:
                    self.issued_at_by_line[line.id] = i.issued_at

    def write_entries(self) -> None:
        rng = self.rng
        writer = self.writer
        count = len(self.e_project)
        first = writer.reserve_ids(TimeEntry, count)
        table = _Table(
            TimeEntry,
            [
                "id", "public_id", "created_at", "updated_at", "workspace_id", "user_id",
                "project_id", "started_at", "ended_at", "duration_seconds", "description",
                "is_billable", "invoice_line_id", "invoiced_at", "own_json",
            ],
        )  # fmt: skip
        ws, people = self.workspace.pk, self.people
        project_ids = [p.pk for p in self.project_list]
        offset = self.line_offset
        issued = self.issued_at_by_line
        from_timestamp, delta = dt.datetime.fromtimestamp, dt.timedelta
        getrandbits, make_uuid = self.id_rng.getrandbits, uuid.UUID
        e_project, e_start, e_seconds = self.e_project, self.e_start, self.e_seconds
        e_billable, e_description, e_line = self.e_billable, self.e_description, self.e_line
        e_user = self.e_user

        # Each entry's tags (~30 % have one, ~6 % two): drawn here, before the entries are
        # written, because the entries' stored JSON (TimeEntry.own_json) holds their names.
        tag_ids = [tag.pk for tag in self.tags]
        tag_names = [tag.name for tag in self.tags]
        random_ = rng.random
        entry_tags: list[tuple[int, ...]] = []
        for _ in range(count):
            roll = random_()
            if roll < 0.06:
                entry_tags.append(
                    (int(roll * 100) % len(tag_ids), (int(roll * 100) + 3) % len(tag_ids))
                )
            elif roll < 0.3:
                entry_tags.append((int(roll * 100) % len(tag_ids),))
            else:
                entry_tags.append(())
        # The entries' stored JSON as the ORM would write it; the tags' JSON per combination.
        description_json = [json.dumps(text, ensure_ascii=False) for text in DESCRIPTIONS]
        tags_text: dict[tuple[int, ...], str] = {}
        for tags in set(entry_tags):
            tags_text[tags] = tags_json(tag_names[i] for i in tags)

        def rows() -> Iterator[tuple[Any, ...]]:
            for index in range(count):
                started = from_timestamp(e_start[index], UTC)
                ended = started + delta(seconds=e_seconds[index])
                line = e_line[index]
                public_id = make_uuid(int=getrandbits(128), version=4)
                ended_text = ended.isoformat()
                yield (
                    first + index, public_id, ended, ended,
                    ws, people[e_user[index]], project_ids[e_project[index]], started, ended,
                    e_seconds[index], DESCRIPTIONS[e_description[index]], e_billable[index],
                    line + offset if line else None, issued[line] if line else None,
                    own_json_text(
                        str(public_id), started.isoformat(), ended_text, e_seconds[index],
                        description_json[e_description[index]], e_billable[index],
                        ended_text, ended_text, tags_text[entry_tags[index]],
                    ),
                )  # fmt: skip

        def text_lines() -> Iterator[str]:
            """The same rows as `rows`, as COPY text lines (PostgreSQL)."""
            descriptions = [_copy_text(text) for text in DESCRIPTIONS]
            issued_text = {line: at.isoformat() for line, at in issued.items()}
            users = [str(pk) for pk in people]
            projects = [str(pk) for pk in project_ids]
            for index in range(count):
                start, seconds, line = e_start[index], e_seconds[index], e_line[index]
                started = from_timestamp(start, UTC).isoformat()
                ended = from_timestamp(start + seconds, UTC).isoformat()
                # What uuid.UUID(int=…, version=4) keeps of the same random bits.
                public_id = (getrandbits(128) & UUID4_MASK) | UUID4_BITS
                hex_id = f"{public_id:032x}"
                own = own_json_text(
                    f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}",
                    started, ended, seconds, description_json[e_description[index]],
                    e_billable[index], ended, ended, tags_text[entry_tags[index]],
                )  # fmt: skip
                yield (
                    f"{first + index}\t{hex_id}\t{ended}\t{ended}\t{ws}\t"
                    f"{users[e_user[index]]}\t{projects[e_project[index]]}\t{started}\t"
                    f"{ended}\t{seconds}\t{descriptions[e_description[index]]}\t"
                    f"{'t' if e_billable[index] else 'f'}\t"
                    f"{line + offset if line else NULL}\t{issued_text[line] if line else NULL}\t"
                    f"{_copy_text(own)}\n"
                )

        if writer.vendor == "postgresql" and not table.extra:
            self.counts["time_entries"] = writer.write_text(table, text_lines())
        else:
            self.counts["time_entries"] = writer.write(table, rows())
        through = TimeEntry.tags.through
        tag_table = _Table(through, ["timeentry_id", "tag_id"])

        def tag_rows() -> Iterator[tuple[int, int]]:
            for index, tags in enumerate(entry_tags):
                for tag in tags:
                    yield (first + index, tag_ids[tag])

        self.counts["time_entry_tags"] = writer.write(tag_table, tag_rows())
        self.counts["unbilled_time_entries"] = sum(
            1 for index in range(count) if e_billable[index] and not e_line[index]
        )

    # --- quotes -----------------------------------------------------------------------------

    def quotes(self) -> None:
        rng = self.rng
        writer = self.writer
        today = self.today
        span = (today - self.first_day).days
        plans = []
        for index in range(self.scale.quotes):
            client = rng.choice(self.client_list)
            if index < max(1, self.scale.quotes // 20):
                issue, status = None, "draft"
            elif index < max(3, self.scale.quotes // 10):
                # Sent 24 to 29 days ago: they expire within the next week.
                issue, status = today - dt.timedelta(days=rng.randint(24, 29)), "sent"
            else:
                issue = self.first_day + dt.timedelta(days=rng.randint(0, span))
                roll = rng.random()
                if issue + dt.timedelta(days=VALIDITY_DAYS) >= today:
                    status = "accepted" if roll < 0.3 else "sent"
                else:
                    status = "accepted" if roll < 0.55 else "declined" if roll < 0.75 else "sent"
            lines = []
            rate = client.default_hourly_rate or Decimal("90")
            for position in range(rng.randint(1, 4)):
                if position == 0 or rng.random() < 0.5:
                    lines.append(
                        _Line(
                            id=0,
                            description=rng.choice(ESTIMATES),
                            quantity=Decimal(rng.randrange(10, 120)).quantize(Decimal("0.001")),
                            unit=InvoiceLine.Unit.HOURS,
                            unit_price=rate,
                            tax_rate=_tax_rate(client),
                        )
                    )
                else:
                    text, unit, (q_low, q_high), (p_low, p_high) = rng.choice(MANUAL_LINES)
                    lines.append(
                        _Line(
                            id=0,
                            description=text,
                            quantity=Decimal(rng.randint(q_low, q_high)).quantize(Decimal("0.001")),
                            unit=unit,
                            unit_price=Decimal(rng.randrange(p_low, p_high + 1)),
                            tax_rate=_tax_rate(client),
                        )
                    )
            plan = _Invoice(client, "quote", status, issue, lines)
            _compute(plan)
            plans.append(plan)
        base = writer.reserve_ids(Quote, len(plans))
        counters: dict[int, int] = {}
        numbered = sorted((p for p in plans if p.issue_date), key=lambda p: p.issue_date)  # type: ignore[arg-type,return-value]
        for offset, plan in enumerate(numbered):
            assert plan.issue_date is not None
            plan.id = base + offset
            year = plan.issue_date.year
            plan.number_sequence = counters[year] = counters.get(year, 0) + 1
            plan.number_year = year
            plan.number = QUOTE_NUMBER_FORMAT.format(year=year, seq=plan.number_sequence)
            plan.issued_at = self._at(plan.issue_date, 11, offset % 3600)
            plan.created_at = plan.issued_at - dt.timedelta(hours=1)
        for offset, plan in enumerate(p for p in plans if not p.issue_date):
            plan.id = base + len(numbered) + offset
            plan.created_at = self.now - dt.timedelta(days=rng.randint(1, 10), minutes=offset)
        table = _Table(
            Quote,
            [
                "id", "public_id", "created_at", "updated_at", "workspace_id", "client_id",
                "status", "number", "number_year", "number_sequence", "currency",
                "issue_date", "valid_until", "subtotal", "discount_amount", "tax_total",
                "total", "portal_token", "sent_to", "sent_at", "emailed_at", "accepted_at",
                "accepted_by_name", "declined_at", "decline_reason",
            ],
        )  # fmt: skip
        ws = self.workspace.pk

        def quote_rows() -> Iterator[tuple[Any, ...]]:
            for p in sorted(plans, key=lambda p: p.id):
                answered = None
                if p.status in ("accepted", "declined") and p.issue_date and p.issued_at:
                    latest = max(1, min(VALIDITY_DAYS, (today - p.issue_date).days))
                    answered = min(
                        p.issued_at + dt.timedelta(days=rng.randint(1, latest)), self.now
                    )
                start = p.issue_date or (self.now.astimezone(self.workspace.tzinfo).date())
                sent = p.status != "draft"
                name = rng.choice(ACCEPTED_BY) if p.status == "accepted" else ""
                reason = rng.choice(DECLINE_REASONS) if p.status == "declined" else ""
                assert p.created_at is not None
                activities.append((p.id, owner, action.CREATED, "Draft created.", p.created_at))
                if sent and p.issued_at:
                    message = f"Sent as {p.number} to {p.client.email}."
                    activities.append((p.id, owner, action.SENT, message, p.issued_at))
                if answered and p.status == "accepted":
                    message = f"Accepted by {name}."
                    activities.append((p.id, None, action.ACCEPTED, message, answered))
                if answered and p.status == "declined":
                    message = reason or "Declined."
                    activities.append((p.id, None, action.DECLINED, message, answered))
                yield (
                    p.id, self._uuid(), p.created_at, answered or p.issued_at or p.created_at,
                    ws, p.client.pk, p.status, p.number, p.number_year, p.number_sequence,
                    p.client.currency, p.issue_date, start + dt.timedelta(days=VALIDITY_DAYS),
                    p.subtotal, p.discount_amount, p.tax_total, p.total,
                    secrets.token_urlsafe(PORTAL_TOKEN_BYTES) if sent else None,
                    p.client.email if sent else "", p.issued_at, p.issued_at,
                    answered if p.status == "accepted" else None, name,
                    answered if p.status == "declined" else None, reason,
                )  # fmt: skip

        activities: list[tuple[Any, ...]] = []
        action, owner = QuoteActivity.Action, self.user.pk
        writer.write(table, quote_rows())
        activity_table = _Table(
            QuoteActivity, ["quote_id", "actor_id", "action", "message", "created_at"]
        )
        self.counts["quote_activities"] = writer.write(activity_table, iter(activities))
        line_table = _Table(
            QuoteLine,
            [
                "public_id", "position", "description", "quantity", "unit", "unit_price",
                "tax_rate", "total", "quote_id",
            ],
        )  # fmt: skip

        def line_rows() -> Iterator[tuple[Any, ...]]:
            for p in plans:
                for position, line in enumerate(p.lines):
                    yield (
                        self._uuid(), position, line.description, line.quantity, line.unit,
                        line.unit_price, line.tax_rate, line.total, p.id,
                    )  # fmt: skip

        self.counts["quote_lines"] = writer.write(line_table, line_rows())
        DocumentCounter.objects.bulk_create(
            [
                DocumentCounter(
                    workspace=self.workspace,
                    series=DocumentCounter.Series.QUOTE,
                    year=year,
                    last_value=n,
                )
                for year, n in sorted(counters.items())
            ]
        )
        self.counts["quotes"] = len(plans)

    # --- expenses ---------------------------------------------------------------------------

    def expenses(self) -> bool:
        if not apps.is_installed("solodesk.expenses"):
            return False
        expense_model = apps.get_model("expenses", "Expense")
        rng = self.rng
        span = (self.today - self.first_day).days
        table = _Table(
            expense_model,
            [
                "public_id", "created_at", "updated_at", "workspace_id", "client_id",
                "project_id", "date", "category", "description", "amount", "currency",
                "is_billable", "created_by_id",
            ],
        )  # fmt: skip
        categories = [name for name, _weight, _range in EXPENSE_CATEGORIES]
        weights = [weight for _name, weight, _range in EXPENSE_CATEGORIES]
        ranges = {name: bounds for name, _weight, bounds in EXPENSE_CATEGORIES}
        projects = [p for p in self.project_list if p.is_billable]
        ws, owner = self.workspace.pk, self.user.pk

        def rows() -> Iterator[tuple[Any, ...]]:
            for _ in range(self.scale.expenses):
                category = rng.choices(categories, weights)[0]
                day = self.first_day + dt.timedelta(days=rng.randint(0, span))
                at = self._at(day, 18, rng.randint(0, 3600))
                project = rng.choice(projects) if projects and rng.random() < 0.3 else None
                client = project.client if project else None
                yield (
                    self._uuid(), at, at, ws, client.pk if client else None,
                    project.pk if project else None, day, category,
                    rng.choice(EXPENSE_TEXT[category]), _money(rng, *ranges[category]),
                    client.currency if client else "EUR",
                    bool(project) and rng.random() < 0.5, owner,
                )  # fmt: skip

        self.counts["expenses"] = self.writer.write(table, rows())
        return True

    # --- the running timer ------------------------------------------------------------------

    def running_timer(self) -> None:
        """The owner's timer, started 60 to 120 minutes ago, never before their last entry
        ended (time does not overlap), on the project of their latest entry that time can
        still be booked on (as `timer_start` and its menu require: neither the project nor
        its client archived), else on the first such project. A row of its own, like the
        timer `timer_start` writes: it becomes an entry, and counts in the daily and
        monthly totals, only when it is stopped."""
        rng = self.rng
        projects = self.project_list

        def open_for_time(index: int) -> bool:
            project = projects[index]
            return not project.is_archived and not project.client.is_archived

        owner_entries = [i for i in range(len(self.e_project)) if self.e_user[i] == 0]
        latest = next(
            (i for i in reversed(owner_entries) if open_for_time(self.e_project[i])), None
        )
        project: Project | None
        if latest is not None:
            project = projects[self.e_project[latest]]
        else:
            project = next((p for i, p in enumerate(projects) if open_for_time(i)), None)
        if project is None:
            self.counts["running_timers"] = 0
            return
        started = self.now - dt.timedelta(minutes=rng.randint(60, 120))
        if owner_entries:
            last = owner_entries[-1]
            last_end = dt.datetime.fromtimestamp(self.e_start[last] + self.e_seconds[last], UTC)
            started = max(started, last_end)
        timer = RunningTimer.objects.create(
            workspace=self.workspace,
            user=self.user,
            project=project,
            public_id=self._uuid(),
            description=rng.choice([text for text in DESCRIPTIONS if text]),
            started_at=started,
        )
        # Created when it was started, as `timer_start` would have.
        RunningTimer.objects.filter(pk=timer.pk).update(created_at=started, updated_at=started)
        self.counts["running_timers"] = 1


def seed_workspace(
    *,
    scale: str,
    email: str = DEFAULT_EMAIL,
    password: str = DEFAULT_PASSWORD,
    random_seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Create a user and a workspace full of data at the given scale, in one transaction
    (nothing is written when it fails). Raises ApplicationError if the e-mail is taken."""
    if scale not in SCALES:
        raise ApplicationError(f"Unknown scale {scale!r}: choose one of {', '.join(SCALES)}.")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(f"{email!r} is not a valid e-mail address.") from None
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError(
            f"A user with the e-mail address {email} already exists; "
            "choose another one with --email."
        )
    started = time.perf_counter()
    clock = _Clock(progress)
    seeder = _Seeder(
        scale=SCALES[scale], rng=random.Random(random_seed), progress=progress, clock=clock
    )
    with transaction.atomic():
        with clock.phase("owner and clients"):
            seeder.owner(email=email, password=password)
            seeder.team()
            seeder.clients()
            seeder.projects()
        with clock.phase("plan time entries"):
            seeder.plan_entries()
        with clock.phase("plan invoices"):
            seeder.plan_invoices()
        seeder.writer.bulk_begin()
        with clock.phase("write invoices"):
            seeder.write_invoices()
        with clock.phase("write time entries"):
            seeder.write_entries()
        with clock.phase("quotes"):
            seeder.quotes()
        with clock.phase("expenses"):
            if not seeder.expenses():
                seeder.counts["expenses"] = 0
        with clock.phase("check keys"):
            seeder.writer.bulk_end()
        with clock.phase("running timer"):
            seeder.running_timer()
        with clock.phase("daily totals"):
            seeder.counts["time_entry_days"] = time_entry_days_rebuild(workspace=seeder.workspace)
        with clock.phase("unbilled time"):
            seeder.counts["unbilled_times"] = unbilled_time_rebuild(workspace=seeder.workspace)
        with clock.phase("revenue totals"):
            seeder.counts["revenue_months"] = revenue_months_rebuild(workspace=seeder.workspace)
        commit_started = time.perf_counter()
    clock.record("commit", commit_started)
    # Statistics for the planner, as a database in use would have them; on PostgreSQL also
    # the visibility map (VACUUM), so index-only scans skip the heap from the first query.
    # VACUUM cannot run in a transaction: in one (a caller's, a test's) only ANALYZE.
    vacuum = connection.vendor == "postgresql" and connection.get_autocommit()
    command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
    with clock.phase(command.lower()), connection.cursor() as cursor:
        for table in seeder.writer.tables():
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")
    counts = {
        "clients": len(seeder.client_list),
        "projects": len(seeder.project_list),
        **seeder.counts,
    }
    return SeedResult(
        email=email,
        workspace_public_id=seeder.workspace.public_id,
        counts=counts,
        seconds=round(time.perf_counter() - started, 2),
        phases=clock.phases,
    )
