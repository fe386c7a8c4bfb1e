"""Every write to invoices, credit notes and payments.

Rules that the code below keeps, and why:
- Numbers are taken from a DocumentCounter row locked with select_for_update inside the
  issuing transaction: two concurrent issues wait for each other instead of sharing a
  number, and a rollback gives the number back, so the series stays gapless.
- The invoice row itself is locked (select_for_update) before any status change or payment,
  so two requests cannot both issue, void or overpay the same invoice.
- A time entry is reserved by pointing its single `invoice_line` column at the line; the
  reservation is a conditional UPDATE (`invoice_line IS NULL`) whose row count is checked,
  so an entry can never be on two invoices even when two drafts are made at the same time.
- Stored totals always come from calculation.compute_totals over the stored lines.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from solodesk.accounts.models import TimeRounding, User, Workspace
from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError
from solodesk.core.money import CURRENCIES, quantize
from solodesk.invoicing.calculation import Totals, document_totals
from solodesk.invoicing.models import (
    DocumentCounter,
    Invoice,
    InvoiceActivity,
    InvoiceLine,
    Payment,
    RevenueMonth,
)
from solodesk.projects.models import Project
from solodesk.timetracking.models import TimeEntry
from solodesk.timetracking.services import unbilled_time_apply
from solodesk.webhooks.services import (
    webhook_event_record_invoice,
    webhook_event_record_payment,
)

ISSUED_CHANGE_MESSAGE = "An issued invoice cannot be changed; issue a credit note instead."
NO_UNBILLED_TIME_MESSAGE = "No unbilled billable time for this client in that period."
DRAFT_FIELDS = ("issue_date", "due_date", "discount_type", "discount_value", "notes")
GROUPINGS = ("project", "project_day", "entry")
MAX_LINES = 500
SECONDS_PER_HOUR = Decimal(3600)
HOURS_QUANTUM = Decimal("0.001")


# --- helpers ---------------------------------------------------------------------------------


def _activity(invoice: Invoice, user: User | None, action: str, message: str = "") -> None:
    InvoiceActivity.objects.create(
        invoice=invoice, actor=user, action=action, message=message[:500]
    )


def _today(workspace: Workspace) -> dt.date:
    return timezone.localdate(timezone=workspace.tzinfo)


def _day_start(workspace: Workspace, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, workspace.tzinfo)


def decimal_from_input(value: Any, field_name: str, label: str) -> Decimal:
    """A user-given number as a finite Decimal, or an ApplicationError on `field_name`."""
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError, TypeError):
        raise ApplicationError.for_field(field_name, f"{label} must be a number.") from None
    if not number.is_finite():
        raise ApplicationError.for_field(field_name, f"{label} must be a number.")
    return number


def _lock(invoice: Invoice) -> Invoice:
    """Re-read the invoice under a row lock: status changes and payments serialise here."""
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("workspace", "client")
        .get(pk=invoice.pk)
    )


def _refresh_caller_copy(target: Invoice, source: Invoice) -> Invoice:
    """Services return the locked, up-to-date row; keep the caller's object in step too so
    code holding the old reference does not act on stale state."""
    for model_field in Invoice._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))
    return source


@dataclass
class _LineData:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: Decimal
    project: Project | None = None
    tracked_seconds: int | None = None
    public_id: UUID | None = None
    entry_ids: list[int] = field(default_factory=list)


def document_lines_clean(
    *,
    workspace: Workspace,
    currency: str,
    lines: Iterable[dict[str, Any]],
    document: str = "An invoice",
) -> list[_LineData]:
    """Check line dicts (description, quantity, unit, unit_price, tax_rate, optional project
    and line id) with the rules every priced document shares, so a quote always converts
    into a valid invoice."""
    cleaned: list[_LineData] = []
    units = set(InvoiceLine.Unit.values)
    places = CURRENCIES.get(currency, ("", 2))[1]
    for index, raw in enumerate(lines, start=1):
        label = f"Line {index}"
        description = " ".join(str(raw.get("description") or "").split())
        if not description:
            raise ApplicationError.for_field("lines", f"{label}: a description is required.")
        if len(description) > 500:
            raise ApplicationError.for_field(
                "lines", f"{label}: the description is longer than 500 characters."
            )
        quantity = decimal_from_input(raw.get("quantity", "1"), "lines", f"{label}: the quantity")
        if quantity < 0 or quantity >= 10**9 or quantity != quantity.quantize(HOURS_QUANTUM):
            raise ApplicationError.for_field(
                "lines", f"{label}: the quantity must be positive, with at most 3 decimals."
            )
        unit = str(raw.get("unit") or InvoiceLine.Unit.HOURS)
        if unit not in units:
            raise ApplicationError.for_field(
                "lines", f"{label}: the unit must be one of {', '.join(sorted(units))}."
            )
        unit_price = decimal_from_input(
            raw.get("unit_price", "0"), "lines", f"{label}: the unit price"
        )
        if (
            unit_price < 0
            or unit_price >= 10**12
            or unit_price != unit_price.quantize(Decimal(1).scaleb(-places))
        ):
            raise ApplicationError.for_field(
                "lines",
                f"{label}: the unit price must be positive, with at most {places} decimals.",
            )
        tax_rate = decimal_from_input(raw.get("tax_rate", "0"), "lines", f"{label}: the tax rate")
        if tax_rate < 0 or tax_rate > 100 or tax_rate != tax_rate.quantize(Decimal("0.01")):
            raise ApplicationError.for_field(
                "lines", f"{label}: the tax rate must be between 0 and 100 %."
            )
        project = raw.get("project")
        if project is not None and project.workspace_id != workspace.pk:
            raise ApplicationError.for_field("lines", f"{label}: project not found.")
        public_id = raw.get("public_id") or raw.get("id")
        try:
            line_public_id = UUID(str(public_id)) if public_id else None
        except ValueError:
            raise ApplicationError.for_field("lines", f"{label}: unknown line.") from None
        cleaned.append(
            _LineData(
                description=description,
                quantity=quantity,
                unit=unit,
                unit_price=unit_price,
                tax_rate=tax_rate,
                project=project,
                public_id=line_public_id,
            )
        )
    if len(cleaned) > MAX_LINES:
        raise ApplicationError.for_field("lines", f"{document} has at most {MAX_LINES} lines.")
    return cleaned


def _clean_fields(invoice: Invoice, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown invoice fields: {', '.join(sorted(unknown))}")
    if "issue_date" in fields:
        invoice.issue_date = fields["issue_date"]
    if "due_date" in fields:
        invoice.due_date = fields["due_date"]
    if "notes" in fields:
        invoice.notes = str(fields["notes"] or "").strip()
    if "discount_type" in fields:
        invoice.discount_type = fields["discount_type"] or Invoice.DiscountType.NONE
    if "discount_value" in fields:
        invoice.discount_value = decimal_from_input(
            fields["discount_value"] if fields["discount_value"] is not None else "0",
            "discount_value",
            "The discount",
        )
    if invoice.discount_type not in Invoice.DiscountType.values:
        raise ApplicationError.for_field("discount_type", "Choose no discount, percent or amount.")
    if invoice.discount_type == Invoice.DiscountType.NONE:
        invoice.discount_value = Decimal("0.00")
    value = invoice.discount_value
    if value < 0:
        raise ApplicationError.for_field("discount_value", "The discount cannot be negative.")
    if value >= 10**12 or value != value.quantize(Decimal("0.01")):
        raise ApplicationError.for_field(
            "discount_value", "The discount can have at most 2 decimals."
        )
    if invoice.discount_type == Invoice.DiscountType.PERCENT and value > 100:
        raise ApplicationError.for_field(
            "discount_value", "A percentage discount is at most 100 %."
        )
    if invoice.issue_date and invoice.due_date and invoice.due_date < invoice.issue_date:
        raise ApplicationError.for_field(
            "due_date", "The due date cannot be before the issue date."
        )


def _totals_for(invoice: Invoice, lines: Sequence[InvoiceLine]) -> Totals:
    return document_totals(invoice, lines)


def _store_totals(invoice: Invoice, lines: Sequence[InvoiceLine]) -> list[InvoiceLine]:
    """Put computed line totals on the lines (returned: those whose total changed) and the
    invoice totals on the invoice (not saved)."""
    totals = _totals_for(invoice, lines)
    changed = []
    for line, total in zip(lines, totals.line_totals, strict=True):
        if line.total != total:
            line.total = total
            changed.append(line)
    invoice.subtotal = totals.subtotal
    invoice.discount_amount = totals.discount_amount
    invoice.tax_total = totals.tax_total
    invoice.total = totals.total
    return changed


def _build_line(invoice: Invoice, position: int, data: _LineData) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        position=position,
        description=data.description,
        quantity=data.quantity,
        unit=data.unit,
        unit_price=data.unit_price,
        tax_rate=data.tax_rate,
        project=data.project,
        tracked_seconds=data.tracked_seconds,
    )


def _check_draft(invoice: Invoice) -> None:
    if invoice.status != Invoice.Status.DRAFT:
        raise ApplicationError(ISSUED_CHANGE_MESSAGE)


# --- monthly revenue totals (RevenueMonth, decision 0006) ------------------------------------

# The statuses whose documents count as invoiced (credit notes negatively).
BILLED_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID)


@dataclass(frozen=True)
class RevenueChange:
    """Money to add to one month's totals of an invoice's client and currency, and the
    document (invoice, credit note or payment) counted in or out: `sign` 1 or −1."""

    invoice: Invoice
    day: dt.date
    sign: int
    invoiced: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")


def _signed_total(invoice: Invoice) -> Decimal:
    """What an issued document adds to "invoiced": a credit note takes its total off."""
    return -invoice.total if invoice.kind == Invoice.Kind.CREDIT_NOTE else invoice.total


def revenue_months_apply(*changes: RevenueChange) -> None:
    """Add the changes to their (workspace, client, currency, month) rows in ONE
    INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x: the database adds them, so two
    concurrent writers to the same month never lose one, and no row is read. Call it in
    the transaction of the service that changes the figure."""
    totals: dict[tuple[int, int, str, dt.date], tuple[Decimal, Decimal, int]] = {}
    for change in changes:
        invoice = change.invoice
        key = (invoice.workspace_id, invoice.client_id, invoice.currency, change.day.replace(day=1))
        invoiced, paid, documents = totals.get(key, (Decimal("0.00"), Decimal("0.00"), 0))
        totals[key] = (invoiced + change.invoiced, paid + change.paid, documents + change.sign)
    rows = [(key, value) for key, value in totals.items() if any(value)]
    if not rows:
        return
    table = connection.ops.quote_name(RevenueMonth._meta.db_table)
    ops = connection.ops
    params: list[Any] = []
    for (workspace_id, client_id, currency, month), (invoiced, paid, documents) in rows:
        params += [
            workspace_id,
            client_id,
            currency,
            ops.adapt_datefield_value(month),
            ops.adapt_decimalfield_value(invoiced),
            ops.adapt_decimalfield_value(paid),
            documents,
        ]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table}"  # noqa: S608
            f" (workspace_id, client_id, currency, month, invoiced, paid, documents)"
            f" VALUES {values}"
            f" ON CONFLICT (workspace_id, month, client_id, currency)"
            f" DO UPDATE SET invoiced = {table}.invoiced + excluded.invoiced,"
            f" paid = {table}.paid + excluded.paid,"
            f" documents = {table}.documents + excluded.documents",
            params,
        )


def _revenue_rebuild_sql(vendor: str, *, one_workspace: bool) -> str:
    if vendor == "postgresql":
        month = "date_trunc('month', {}::timestamp)::date"
    else:
        month = "strftime('%%Y-%%m-01', {})"
    table = RevenueMonth._meta.db_table
    invoice = Invoice._meta.db_table
    payment = Payment._meta.db_table
    only = " AND i.workspace_id = %s" if one_workspace else ""
    return (
        f"INSERT INTO {table}"  # noqa: S608
        f" (workspace_id, client_id, currency, month, invoiced, paid, documents)"
        f" SELECT t.workspace_id, t.client_id, t.currency, t.month, SUM(t.invoiced), SUM(t.paid),"
        f" COUNT(*) FROM ("
        f" SELECT i.workspace_id AS workspace_id, i.client_id AS client_id,"
        f" i.currency AS currency, {month.format('i.issue_date')} AS month,"
        f" CASE WHEN i.kind = %s THEN -i.total ELSE i.total END AS invoiced, 0 AS paid"
        f" FROM {invoice} i WHERE i.status IN (%s, %s, %s){only}"
        f" UNION ALL"
        f" SELECT i.workspace_id, i.client_id, i.currency, {month.format('p.date')}, 0, p.amount"
        f" FROM {payment} p INNER JOIN {invoice} i ON i.id = p.invoice_id"
        f" WHERE 1 = 1{only}"
        f" ) t GROUP BY t.workspace_id, t.client_id, t.currency, t.month"
    )


@transaction.atomic
def revenue_months_rebuild(*, workspace: Workspace | None = None) -> int:
    """Recompute the monthly revenue totals from the invoices and payments, of one
    workspace or of all (the migration that adds them, bulk-loaded data: `solodesk seed`,
    benchmarks): one INSERT … SELECT … GROUP BY. Returns the number of rows written."""
    rows = RevenueMonth.objects.all()
    params: list[Any] = [
        Invoice.Kind.CREDIT_NOTE.value,
        *(status.value for status in BILLED_STATUSES),
    ]
    if workspace is not None:
        rows = rows.filter(workspace=workspace)
        params += [workspace.pk, workspace.pk]
    rows.delete()
    sql = _revenue_rebuild_sql(connection.vendor, one_workspace=workspace is not None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


# --- drafts ----------------------------------------------------------------------------------


@transaction.atomic
def invoice_create_draft(
    *,
    workspace: Workspace,
    user: User,
    client: Client,
    lines: Iterable[dict[str, Any]] = (),
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
    discount_type: str = "none",
    discount_value: Decimal = Decimal("0"),
    notes: str = "",
) -> Invoice:
    if client.workspace_id != workspace.pk:
        raise ApplicationError.for_field("client_id", "Client not found.")
    invoice = Invoice(workspace=workspace, client=client, currency=client.currency)
    _clean_fields(
        invoice,
        {
            "issue_date": issue_date,
            "due_date": due_date,
            "discount_type": discount_type,
            "discount_value": discount_value,
            "notes": notes,
        },
    )
    line_data = document_lines_clean(workspace=workspace, currency=invoice.currency, lines=lines)
    built = [_build_line(invoice, position, data) for position, data in enumerate(line_data)]
    _store_totals(invoice, built)
    invoice.save()
    InvoiceLine.objects.bulk_create(built)
    _activity(invoice, user, InvoiceActivity.Action.CREATED, "Draft created.")
    return invoice


@transaction.atomic
def invoice_update_draft(
    *, invoice: Invoice, user: User, lines: Iterable[dict[str, Any]] | None = None, **fields: Any
) -> Invoice:
    """`lines`, when given, is the new full list. A line dict carrying the `public_id` (or
    `id`) of one of the draft's lines updates that line in place, so the time entries it
    reserves stay with it; lines left out are deleted and their entries released."""
    locked = _lock(invoice)
    _check_draft(locked)
    _clean_fields(locked, fields)
    existing = list(locked.lines.all())
    if lines is not None:
        line_data = document_lines_clean(
            workspace=locked.workspace, currency=locked.currency, lines=lines
        )
        by_public_id = {line.public_id: line for line in existing}
        kept: list[InvoiceLine] = []
        new: list[InvoiceLine] = []
        final: list[InvoiceLine] = []
        for position, data in enumerate(line_data):
            if data.public_id is not None:
                line = by_public_id.pop(data.public_id, None)
                if line is None:
                    raise ApplicationError.for_field(
                        "lines", f"Line {position + 1}: that line is not on this invoice."
                    )
                line.position = position
                line.description = data.description
                line.quantity = data.quantity
                line.unit = data.unit
                line.unit_price = data.unit_price
                line.tax_rate = data.tax_rate
                line.project = data.project
                kept.append(line)
                final.append(line)
            else:
                line = _build_line(locked, position, data)
                new.append(line)
                final.append(line)
        removed = list(by_public_id.values())
        if removed:
            _release_entries(TimeEntry.objects.filter(invoice_line__in=removed))
            InvoiceLine.objects.filter(pk__in=[line.pk for line in removed]).delete()
        _store_totals(locked, final)
        if kept:
            InvoiceLine.objects.bulk_update(
                kept,
                [
                    "position",
                    "description",
                    "quantity",
                    "unit",
                    "unit_price",
                    "tax_rate",
                    "project",
                    "total",
                ],
            )
        if new:
            InvoiceLine.objects.bulk_create(new)
    else:
        changed = _store_totals(locked, existing)
        if changed:
            InvoiceLine.objects.bulk_update(changed, ["total"])
    locked.save()
    _activity(locked, user, InvoiceActivity.Action.UPDATED, "Draft updated.")
    return _refresh_caller_copy(invoice, locked)


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, user: User) -> None:
    locked = _lock(invoice)
    if locked.status != Invoice.Status.DRAFT:
        raise ApplicationError(
            "An issued invoice cannot be deleted; void it or issue a credit note."
        )
    _release_entries(TimeEntry.objects.filter(invoice_line__invoice=locked))
    locked.delete()


def _release_entries(entries: QuerySet[TimeEntry]) -> None:
    """A draft's entries back to unbilled: their ids first, so that the unbilled time
    (`UnbilledTime`, decision 0008) adds them as the UPDATE left them — an entry on a draft
    can still be edited, and the sums must be of the row as released, not of an earlier
    read."""
    entry_ids = list(entries.values_list("pk", flat=True))
    TimeEntry.objects.filter(pk__in=entry_ids).update(invoice_line=None)
    unbilled_time_apply(entry_ids=entry_ids, sign=1)


# --- from tracked time -----------------------------------------------------------------------


@dataclass(frozen=True)
class RoundingRule:
    mode: str
    minutes: int
    scope: str

    def apply(self, seconds: int) -> int:
        if self.mode == TimeRounding.NONE:
            return seconds
        step = max(int(self.minutes), 1) * 60
        if self.mode == TimeRounding.UP:
            return math.ceil(seconds / step) * step
        if self.mode == TimeRounding.NEAREST:
            # Half up: 3 minutes on a 6-minute step becomes 6.
            return (seconds + step // 2) // step * step
        return seconds

    def billed_seconds(self, durations: Sequence[int]) -> int:
        if self.scope == TimeRounding.PER_LINE:
            return self.apply(sum(durations))
        return sum(self.apply(seconds) for seconds in durations)


def rounding_rule_for(*, workspace: Workspace, project: Project) -> RoundingRule:
    """The project's setting where it has one, else the workspace's (field by field)."""
    return RoundingRule(
        mode=project.time_rounding_mode or workspace.time_rounding_mode,
        minutes=project.time_rounding_minutes or workspace.time_rounding_minutes,
        scope=project.time_rounding_scope or workspace.time_rounding_scope,
    )


def hours_from_seconds(seconds: int) -> Decimal:
    return (Decimal(seconds) / SECONDS_PER_HOUR).quantize(HOURS_QUANTUM, rounding=ROUND_HALF_UP)


def _span_label(days: Sequence[dt.date]) -> str:
    first, last = min(days), max(days)
    if first == last:
        return first.isoformat()
    return f"{first.isoformat()} – {last.isoformat()}"


def _lines_from_entries(
    *,
    workspace: Workspace,
    client: Client,
    entries: Sequence[TimeEntry],
    grouping: str,
    fixed_fee_percent: Decimal = Decimal("100"),
) -> list[_LineData]:
    tz = workspace.tzinfo
    groups: dict[tuple[Any, ...], list[TimeEntry]] = {}
    for entry in entries:
        project = entry.project
        if project.billing_method == Project.BillingMethod.FIXED:
            key: tuple[Any, ...] = (project.pk, "fixed")
        elif grouping == "project":
            key = (project.pk,)
        elif grouping == "project_day":
            key = (project.pk, entry.started_at.astimezone(tz).date())
        else:
            key = (project.pk, entry.started_at, entry.pk)
        groups.setdefault(key, []).append(entry)

    lines: list[_LineData] = []
    for key, group in groups.items():
        project = group[0].project
        project.client = client  # the rate falls back to the client's
        durations = [entry.duration_seconds for entry in group]
        days = [entry.started_at.astimezone(tz).date() for entry in group]
        entry_ids = [entry.pk for entry in group]
        if key[-1] == "fixed":
            if project.fixed_fee is None:
                message = f"The fixed-fee project “{project.name}” has no fee; set one first."
                raise ApplicationError.for_field("project_ids", message)
            fee, description = project.fixed_fee, f"{project.name} — fixed fee"
            if fixed_fee_percent != HUNDRED_PERCENT:
                fee = quantize(fee * fixed_fee_percent / HUNDRED_PERCENT, client.currency)
                description += f" ({_percent_label(fixed_fee_percent)} %)"
            lines.append(
                _LineData(
                    description=description[:500],
                    quantity=Decimal("1.000"),
                    unit=InvoiceLine.Unit.PIECES,
                    unit_price=fee,
                    tax_rate=Decimal("0.00"),
                    project=project,
                    tracked_seconds=sum(durations),
                    entry_ids=entry_ids,
                )
            )
            continue
        rate = project.effective_hourly_rate
        if rate is None:
            message = (
                f"The project “{project.name}” has no hourly rate and neither has its client; "
                "set one first."
            )
            raise ApplicationError.for_field("project_ids", message)
        rule = rounding_rule_for(workspace=workspace, project=project)
        if grouping == "entry":
            detail = group[0].description or "time"
            description = f"{project.name} — {days[0].isoformat()}: {detail}"
        else:
            description = f"{project.name} — {_span_label(days)}"
        lines.append(
            _LineData(
                description=description[:500],
                quantity=hours_from_seconds(rule.billed_seconds(durations)),
                unit=InvoiceLine.Unit.HOURS,
                unit_price=rate,
                tax_rate=Decimal("0.00"),
                project=project,
                tracked_seconds=sum(durations),
                entry_ids=entry_ids,
            )
        )
    return lines


HUNDRED_PERCENT = Decimal("100")


def _percent_label(value: Decimal) -> str:
    """50.00 → "50", 33.330 → "33.33"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def clean_fixed_fee_percent(value: Decimal | int | str | None) -> Decimal:
    """The part of a fixed fee to bill, in percent: 0 < p ≤ 100 with at most 2 decimals;
    None (not given) is the whole fee."""
    if value is None or value == "":
        return HUNDRED_PERCENT
    message = "Bill a part of the fixed fee between 0 and 100 % (e.g. 50 or 33.33)."
    try:
        percent = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ApplicationError.for_field("fixed_fee_percent", message) from None
    if (
        not percent.is_finite()
        or percent <= 0
        or percent > HUNDRED_PERCENT
        or percent != percent.quantize(Decimal("0.01"))
    ):
        raise ApplicationError.for_field("fixed_fee_percent", message)
    return percent


def unbilled_entries(*, workspace: Workspace) -> QuerySet[TimeEntry]:
    """Billable, not reserved by a draft, not invoiced, on a project that bills."""
    return TimeEntry.objects.filter(
        workspace=workspace,
        is_billable=True,
        invoice_line__isnull=True,
        invoiced_at__isnull=True,
    ).exclude(project__billing_method=Project.BillingMethod.NON_BILLABLE)


@transaction.atomic
def invoice_create_from_time(
    *,
    workspace: Workspace,
    user: User,
    client: Client,
    date_from: dt.date | None,
    date_to: dt.date | None,
    project_public_ids: Sequence[UUID] | None = None,
    grouping: str = "project",
    issue_date: dt.date | None = None,
    fixed_fee_percent: Decimal | None = None,
) -> Invoice:
    """`fixed_fee_percent` (0 < p ≤ 100, default 100) bills that part of each fixed-fee
    project's fee: "Security audit — fixed fee (50 %)" at fee × p / 100, rounded half-up
    to the currency."""
    if client.workspace_id != workspace.pk:
        raise ApplicationError.for_field("client_id", "Client not found.")
    percent = clean_fixed_fee_percent(fixed_fee_percent)
    if grouping not in GROUPINGS:
        raise ApplicationError.for_field(
            "grouping", "Group by project, by project and day, or one line per entry."
        )
    if date_from and date_to and date_to < date_from:
        raise ApplicationError.for_field("date_to", "The end of the period is before its start.")
    candidates = unbilled_entries(workspace=workspace).filter(project__client=client)
    if project_public_ids:
        try:
            wanted = {UUID(str(public_id)) for public_id in project_public_ids}
        except ValueError:
            raise ApplicationError.for_field("project_ids", "Project not found.") from None
        found = set(
            Project.objects.filter(
                workspace=workspace, client=client, public_id__in=wanted
            ).values_list("public_id", flat=True)
        )
        if found != wanted:
            raise ApplicationError.for_field("project_ids", "Project not found for this client.")
        candidates = candidates.filter(project__public_id__in=wanted)
    if date_from:
        candidates = candidates.filter(started_at__gte=_day_start(workspace, date_from))
    if date_to:
        candidates = candidates.filter(
            started_at__lt=_day_start(workspace, date_to + dt.timedelta(days=1))
        )
    # Lock the candidates (PostgreSQL re-checks `invoice_line IS NULL` after waiting, so a
    # concurrent call that reserved them first makes them drop out here); ordered by pk so
    # two calls always lock in the same order and cannot deadlock.
    locked_pks = list(
        candidates.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True)
    )
    if not locked_pks:
        raise ApplicationError(NO_UNBILLED_TIME_MESSAGE)
    entries = list(
        TimeEntry.objects.filter(pk__in=locked_pks)
        .select_related("project")
        .order_by("project__name", "project_id", "started_at", "pk")
    )
    line_data = _lines_from_entries(
        workspace=workspace,
        client=client,
        entries=entries,
        grouping=grouping,
        fixed_fee_percent=percent,
    )
    if len(line_data) > MAX_LINES:
        # The same cap as a draft written by hand (one line per entry can go far past it).
        raise ApplicationError.for_field(
            "grouping",
            f"That would make {len(line_data)} lines; an invoice has at most {MAX_LINES}. "
            "Group by project, or choose a shorter period.",
        )
    invoice = Invoice(
        workspace=workspace, client=client, currency=client.currency, issue_date=issue_date
    )
    built = [_build_line(invoice, position, data) for position, data in enumerate(line_data)]
    _store_totals(invoice, built)
    invoice.save()
    InvoiceLine.objects.bulk_create(built)
    for line, data in zip(built, line_data, strict=True):
        # The conditional filter is the guard that also holds on SQLite (no row locks):
        # an entry another draft took in the meantime is not updated, the count differs,
        # and everything rolls back.
        reserved = TimeEntry.objects.filter(
            pk__in=data.entry_ids, invoice_line__isnull=True
        ).update(invoice_line=line)
        if reserved != len(data.entry_ids):
            raise ApplicationError(
                "Some of this time was just put on another invoice; please try again."
            )
    # Off the projects' unbilled time (decision 0008): one upsert for all the lines.
    unbilled_time_apply(entry_ids=locked_pks, sign=-1)
    _activity(
        invoice,
        user,
        InvoiceActivity.Action.CREATED,
        f"Draft created from {len(entries)} time entries.",
    )
    return invoice


# --- numbering and issue ---------------------------------------------------------------------


def _next_number(
    *, workspace: Workspace, series: str, year: int, number_format: str
) -> tuple[str, int]:
    """Take the next value of the (workspace, series, year) counter under a row lock. Must
    run inside the transaction that stores the number: if it rolls back, so does the
    counter, and the next issue gets the same number (no gap)."""
    DocumentCounter.objects.bulk_create(
        [DocumentCounter(workspace=workspace, series=series, year=year, last_value=0)],
        ignore_conflicts=True,
    )
    counter = DocumentCounter.objects.select_for_update().get(
        workspace=workspace, series=series, year=year
    )
    counter.last_value += 1
    counter.save(update_fields=["last_value"])
    try:
        number = number_format.format(year=year, seq=counter.last_value)
    except (KeyError, IndexError, ValueError) as error:
        raise ApplicationError(
            f"The number format “{number_format}” is not valid ({error}); "
            "use {year} and {seq}, e.g. {year}-{seq:04d}."
        ) from None
    if not number or len(number) > 40:
        raise ApplicationError(f"The number format “{number_format}” gives an unusable number.")
    return number, counter.last_value


def _save_numbered(invoice: Invoice) -> None:
    try:
        with transaction.atomic():
            invoice.save()
    except IntegrityError:
        raise ApplicationError(
            f"The number {invoice.number} is already used: the number format must contain "
            "{seq} (and {year} if it restarts every year)."
        ) from None


def _seller(workspace: Workspace) -> dict[str, str]:
    return {
        "name": workspace.name,
        "address": workspace.address,
        "tax_id": workspace.tax_id,
        "payment_details": workspace.payment_details,
    }


def _buyer(client: Client) -> dict[str, str]:
    return {
        "name": client.name,
        "email": client.email,
        "address": client.address,
        "tax_id": client.tax_id,
    }


@transaction.atomic
def invoice_issue(*, invoice: Invoice, user: User, issue_date: dt.date | None = None) -> Invoice:
    locked = _lock(invoice)
    if locked.status != Invoice.Status.DRAFT:
        raise ApplicationError("This invoice has already been issued.")
    workspace, client = locked.workspace, locked.client
    lines = list(locked.lines.all())
    if not lines:
        raise ApplicationError.for_field("lines", "An invoice needs at least one line.")
    changed = _store_totals(locked, lines)
    if locked.total <= 0:
        raise ApplicationError.for_field("lines", "The invoice total must be more than zero.")
    if changed:
        InvoiceLine.objects.bulk_update(changed, ["total"])
    locked.issue_date = issue_date or locked.issue_date or _today(workspace)
    if locked.due_date is None:
        terms = client.payment_terms_days
        if terms is None:
            terms = workspace.payment_terms_days
        locked.due_date = locked.issue_date + dt.timedelta(days=terms)
    elif locked.due_date < locked.issue_date:
        raise ApplicationError.for_field(
            "due_date", "The due date cannot be before the issue date."
        )
    locked.number, locked.number_sequence = _next_number(
        workspace=workspace,
        series=DocumentCounter.Series.INVOICE,
        year=locked.issue_date.year,
        number_format=workspace.invoice_number_format,
    )
    locked.number_year = locked.issue_date.year
    locked.seller = _seller(workspace)
    locked.buyer = _buyer(client)
    now = timezone.now()
    locked.status = Invoice.Status.ISSUED
    locked.issued_at = now
    _save_numbered(locked)
    revenue_months_apply(
        RevenueChange(locked, locked.issue_date, 1, invoiced=_signed_total(locked))
    )
    # Already off the unbilled time since the draft took them (UnbilledTime): no change.
    TimeEntry.objects.filter(invoice_line__invoice=locked).update(invoiced_at=now)
    _activity(locked, user, InvoiceActivity.Action.ISSUED, f"Issued as {locked.number}.")
    webhook_event_record_invoice(invoice=locked, event_type="invoice.issued")
    return _refresh_caller_copy(invoice, locked)


# --- void and credit notes -------------------------------------------------------------------


@transaction.atomic
def invoice_void(*, invoice: Invoice, user: User, reason: str = "") -> Invoice:
    locked = _lock(invoice)
    if locked.status == Invoice.Status.DRAFT:
        raise ApplicationError("A draft is not voided: delete it instead.")
    if locked.status == Invoice.Status.VOID:
        raise ApplicationError("This invoice is already void.")
    if locked.status != Invoice.Status.ISSUED or locked.payments.exists():
        raise ApplicationError(
            "This invoice has payments: delete them first, or record a credit note."
        )
    if Invoice.objects.filter(credited_invoice=locked).exclude(status=Invoice.Status.VOID).exists():
        raise ApplicationError("This invoice has a credit note, so it cannot also be voided.")
    # Back to unbilled (decision 0008). Issued, so the entries cannot change meanwhile.
    voided = list(
        TimeEntry.objects.filter(invoice_line__invoice=locked).values_list("pk", flat=True)
    )
    TimeEntry.objects.filter(pk__in=voided).update(invoice_line=None, invoiced_at=None)
    unbilled_time_apply(entry_ids=voided, sign=1)
    locked.status = Invoice.Status.VOID
    locked.voided_at = timezone.now()
    locked.save(update_fields=["status", "voided_at", "updated_at"])
    if locked.issue_date is not None:  # issued, so it always has one
        revenue_months_apply(
            RevenueChange(locked, locked.issue_date, -1, invoiced=-_signed_total(locked))
        )
    reason = " ".join(reason.split())
    _activity(locked, user, InvoiceActivity.Action.VOIDED, f"Voided. {reason}".strip())
    if locked.kind == Invoice.Kind.CREDIT_NOTE and locked.credited_invoice_id is not None:
        # The credit no longer reduces what the client owes: back on the invoice's balance.
        original = _lock(Invoice(pk=locked.credited_invoice_id))
        due_before = original.amount_due
        _settle(original)
        _activity(
            original,
            user,
            InvoiceActivity.Action.UPDATED,
            f"Credit note {locked.number} voided: {original.amount_due - due_before} "
            f"{locked.currency} is due again.",
        )
    return _refresh_caller_copy(invoice, locked)


CREDITABLE = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID)


@transaction.atomic
def credit_note_create(
    *,
    invoice: Invoice,
    user: User,
    line_public_ids: Sequence[UUID] | None = None,
    reason: str = "",
) -> Invoice:
    """An issued credit note for all of the invoice's lines, or the chosen ones. A percentage
    discount is copied; an amount discount is shared in proportion to the credited lines'
    part of the subtotal, so crediting every line gives exactly the invoice's total.

    The credit note reduces what the client owes: its total is added to the invoice's
    `amount_credited` under the invoice's row lock (see _settle), so amount_due = total −
    amount_paid − amount_credited drops by exactly the credit note's total. Crediting
    everything still due settles the invoice: its status becomes paid (paid_on = the credit
    note's date, or the last payment's if later) even if nothing was paid, since nothing is
    left to collect. The credit applied never exceeds what payments leave unpaid
    (amount_paid + amount_credited ≤ total, a database constraint): crediting a paid
    invoice records the credit note but leaves amount_due at 0 (the client is owed a refund,
    which is not tracked here), and a cent of rounding between line-by-line credit notes
    never makes the balance negative."""
    locked = _lock(invoice)
    if locked.kind != Invoice.Kind.INVOICE or locked.status not in CREDITABLE:
        raise ApplicationError("Only an issued invoice can be credited.")
    workspace, client = locked.workspace, locked.client
    lines = list(locked.lines.all())
    if line_public_ids is None:
        chosen = lines
    else:
        try:
            wanted = [UUID(str(public_id)) for public_id in line_public_ids]
        except ValueError:
            raise ApplicationError.for_field("line_ids", "Choose lines of this invoice.") from None
        by_public_id = {line.public_id: line for line in lines}
        if not wanted or any(public_id not in by_public_id for public_id in wanted):
            raise ApplicationError.for_field("line_ids", "Choose lines of this invoice.")
        chosen = [line for line in lines if line.public_id in set(wanted)]
    already = (
        InvoiceLine.objects.filter(credited_line__in=chosen)
        .exclude(invoice__status=Invoice.Status.VOID)
        .select_related("credited_line", "invoice")
        .first()
    )
    if already is not None and already.credited_line is not None:
        raise ApplicationError.for_field(
            "line_ids",
            f"The line “{already.credited_line.description}” has already been credited "
            f"(credit note {already.invoice.number}).",
        )
    chosen_subtotal = sum((line.total for line in chosen), Decimal("0.00"))
    if locked.discount_type == Invoice.DiscountType.AMOUNT and len(chosen) != len(lines):
        discount_value = (
            quantize(locked.discount_amount * chosen_subtotal / locked.subtotal, locked.currency)
            if locked.subtotal
            else Decimal("0.00")
        )
    else:
        discount_value = locked.discount_value
    today = _today(workspace)
    reason = " ".join(reason.split())
    note = Invoice(
        workspace=workspace,
        client=client,
        kind=Invoice.Kind.CREDIT_NOTE,
        credited_invoice=locked,
        currency=locked.currency,
        issue_date=today,
        due_date=today,
        discount_type=locked.discount_type,
        discount_value=discount_value,
        notes=reason,
        seller=_seller(workspace),
        buyer=_buyer(client),
    )
    built = [
        InvoiceLine(
            invoice=note,
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
            project_id=line.project_id,
            credited_line=line,
        )
        for position, line in enumerate(chosen)
    ]
    _store_totals(note, built)
    if note.total <= 0:
        raise ApplicationError.for_field("line_ids", "The credit note total would be zero.")
    note.number, note.number_sequence = _next_number(
        workspace=workspace,
        series=DocumentCounter.Series.CREDIT_NOTE,
        year=today.year,
        number_format=workspace.credit_note_number_format,
    )
    note.number_year = today.year
    note.status = Invoice.Status.ISSUED
    note.issued_at = timezone.now()
    _save_numbered(note)
    revenue_months_apply(RevenueChange(note, today, 1, invoiced=_signed_total(note)))
    InvoiceLine.objects.bulk_create(built)
    suffix = f" {reason}" if reason else ""
    _activity(
        note,
        user,
        InvoiceActivity.Action.ISSUED,
        f"Issued as {note.number}, crediting {locked.number}.{suffix}",
    )
    _activity(
        locked,
        user,
        InvoiceActivity.Action.CREDITED,
        f"Credit note {note.number} for {len(chosen)} of {len(lines)} lines.{suffix}",
    )
    _settle(locked)
    _refresh_caller_copy(invoice, locked)
    return note


# --- payments --------------------------------------------------------------------------------


def _settle(invoice: Invoice) -> None:
    """Recompute under the caller's row lock (never incremented blindly) what settles the
    invoice, and its status:
    - amount_paid: the sum of its payments;
    - amount_credited: the sum of its issued (not void) credit notes' totals, but at most
      what the payments leave unpaid, so amount_paid + amount_credited ≤ total always holds
      (a credit beyond that is owed back to the client and not tracked here);
    - status: paid once payments + credits reach the total (paid_on = the date of the last
      of them), partially paid once something is paid, issued otherwise."""
    paid = invoice.payments.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    credit_notes = Invoice.objects.filter(
        credited_invoice=invoice, kind=Invoice.Kind.CREDIT_NOTE, status__in=CREDITABLE
    )
    credited = credit_notes.aggregate(total=Sum("total"))["total"] or Decimal("0.00")
    invoice.amount_paid = quantize(Decimal(paid), invoice.currency)
    invoice.amount_credited = min(
        quantize(Decimal(credited), invoice.currency),
        max(invoice.total - invoice.amount_paid, Decimal("0.00")),
    )
    if invoice.amount_paid + invoice.amount_credited >= invoice.total:
        invoice.status = Invoice.Status.PAID
        last_payment = (
            invoice.payments.order_by("-date", "-pk").values_list("date", flat=True).first()
        )
        last_credit = (
            credit_notes.order_by("-issue_date", "-pk").values_list("issue_date", flat=True).first()
            if invoice.amount_credited
            else None
        )
        invoice.paid_on = max((day for day in (last_payment, last_credit) if day), default=None)
    elif invoice.amount_paid > 0:
        invoice.status = Invoice.Status.PARTIALLY_PAID
        invoice.paid_on = None
    else:
        invoice.status = Invoice.Status.ISSUED
        invoice.paid_on = None
    invoice.save(
        update_fields=["amount_paid", "amount_credited", "status", "paid_on", "updated_at"]
    )


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    user: User,
    amount: Decimal,
    date: dt.date,
    method: str,
    reference: str = "",
) -> Payment:
    locked = _lock(invoice)
    if locked.kind != Invoice.Kind.INVOICE or locked.status not in (
        Invoice.Status.ISSUED,
        Invoice.Status.PARTIALLY_PAID,
    ):
        if locked.status == Invoice.Status.PAID:
            raise ApplicationError.for_field("amount", "This invoice is already paid.")
        raise ApplicationError("Payments can only be recorded on an issued invoice.")
    amount = decimal_from_input(amount, "amount", "The amount")
    places = CURRENCIES.get(locked.currency, ("", 2))[1]
    if amount <= 0:
        raise ApplicationError.for_field("amount", "The amount must be more than zero.")
    if amount >= 10**12 or amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise ApplicationError.for_field(
            "amount", f"The amount can have at most {places} decimals in {locked.currency}."
        )
    due = locked.amount_due
    if amount > due:
        raise ApplicationError.for_field(
            "amount", f"The payment is larger than the balance of {due} {locked.currency}."
        )
    if method not in Payment.Method.values:
        raise ApplicationError.for_field("method", "Choose a payment method.")
    if date is None:
        raise ApplicationError.for_field("date", "The payment date is required.")
    payment = Payment.objects.create(
        invoice=locked,
        amount=amount,
        date=date,
        method=method,
        reference=" ".join(str(reference or "").split())[:200],
        recorded_by=user,
    )
    revenue_months_apply(RevenueChange(locked, date, 1, paid=payment.amount))
    _settle(locked)
    _activity(
        locked,
        user,
        InvoiceActivity.Action.PAYMENT_RECORDED,
        f"Payment of {amount} {locked.currency} on {date.isoformat()}.",
    )
    _refresh_caller_copy(invoice, locked)
    payment.invoice = locked
    webhook_event_record_payment(payment=payment)  # and invoice.paid when it now is
    return payment


@transaction.atomic
def payment_delete(*, payment: Payment, user: User) -> Invoice:
    locked = _lock(payment.invoice)
    if locked.status == Invoice.Status.VOID:
        raise ApplicationError("This invoice is void.")
    message = (
        f"Payment of {payment.amount} {locked.currency} on {payment.date.isoformat()} deleted."
    )
    deleted, _ = Payment.objects.filter(pk=payment.pk, invoice=locked).delete()
    if not deleted:
        raise ApplicationError("This payment was already deleted.")
    # A payment is never changed once recorded: the caller's amount and date are its own.
    revenue_months_apply(RevenueChange(locked, payment.date, -1, paid=-payment.amount))
    _settle(locked)
    _activity(locked, user, InvoiceActivity.Action.PAYMENT_DELETED, message)
    return _refresh_caller_copy(payment.invoice, locked)


# --- numbering for other documents (quotes) ---------------------------------------------------


def document_number_next(
    *, workspace: Workspace, series: str, year: int, number_format: str
) -> tuple[str, int]:
    """The next number of a workspace's (series, year) counter, e.g. for quotes. Call it
    inside the transaction that stores the number: the counter row stays locked until then,
    and a rollback gives the number back (gapless)."""
    return _next_number(workspace=workspace, series=series, year=year, number_format=number_format)
