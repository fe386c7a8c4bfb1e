"""Invoices, credit notes and payments in the API: thin adapters over the invoicing
selectors and services.

The list leaves out lines, payments and activity (one query per page, whatever the page
size); the detail and every action answer with the whole invoice.
"""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Body, Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status
from pydantic import (
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from solodesk.accounts.models import Workspace
from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.clients.models import Client
from solodesk.clients.selectors import client_get
from solodesk.core.api import (
    CappedLimitOffsetPagination,
    DecimalString,
    IsoDatetime,
    omittable,
    referenced,
)
from solodesk.invoicing import pdf, selectors, sending, services
from solodesk.invoicing.calculation import document_totals
from solodesk.invoicing.models import Invoice, InvoiceActivity, InvoiceLine, Payment
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_get

router = Router(tags=["invoices"])


def _format_quantity(value: Decimal) -> str:
    # Three decimals when the third one means something ("2.375" hours), two otherwise.
    text = f"{Decimal(value):.3f}"
    return text[:-1] if text.endswith("0") else text


QuantityString = Annotated[
    Decimal,
    PlainSerializer(_format_quantity, return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["2.50", "2.375"]}),
]

if TYPE_CHECKING:
    StatusFilter = str
    Unit = str
    DiscountType = str
    PaymentMethod = str
    Grouping = str
    Kind = str
else:
    StatusFilter = Literal[(*Invoice.Status.values, "overdue")]
    Unit = Literal[tuple(InvoiceLine.Unit.values)]
    DiscountType = Literal[tuple(Invoice.DiscountType.values)]
    PaymentMethod = Literal[tuple(Payment.Method.values)]
    Grouping = Literal["project", "project_day", "entry"]
    Kind = Literal[tuple(Invoice.Kind.values)]

Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Quantity = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=3)]
Price = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
TaxRate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
PaymentAmount = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def _today(workspace: Workspace) -> dt.date:
    return timezone.now().astimezone(workspace.tzinfo).date()


# --- Schemas ------------------------------------------------------------------------------


class LineOut(Schema):
    id: UUID
    description: str
    quantity: QuantityString
    unit: str
    unit_price: DecimalString
    tax_rate: DecimalString
    total: DecimalString
    project_id: UUID | None
    tracked_seconds: int | None = Field(description="Time tracked before rounding, if any.")

    @staticmethod
    def resolve_id(line: InvoiceLine) -> UUID:
        return line.public_id

    @staticmethod
    def resolve_project_id(line: InvoiceLine) -> UUID | None:
        return line.project.public_id if line.project_id else None  # type: ignore[union-attr]


class TaxGroupOut(Schema):
    rate: DecimalString
    base: DecimalString
    tax: DecimalString


class PaymentOut(Schema):
    id: UUID
    amount: DecimalString
    date: dt.date
    method: str
    reference: str
    created_at: IsoDatetime

    @staticmethod
    def resolve_id(payment: Payment) -> UUID:
        return payment.public_id


class ActivityOut(Schema):
    action: str
    message: str
    actor_email: str | None
    created_at: IsoDatetime

    @staticmethod
    def resolve_actor_email(activity: InvoiceActivity) -> str | None:
        return activity.actor.email if activity.actor_id else None  # type: ignore[union-attr]


class InvoiceSummaryOut(Schema):
    """An invoice as the list shows it: everything but lines, payments and activity."""

    id: UUID
    kind: str
    number: str | None = Field(description="Null on drafts: numbers are given at issue.")
    status: str
    overdue: bool = Field(description="Issued, money still due, due date passed.")
    client_id: UUID
    client_name: str
    currency: str
    issue_date: dt.date | None
    due_date: dt.date | None
    discount_type: str
    discount_value: DecimalString
    discount_amount: DecimalString
    notes: str
    subtotal: DecimalString
    tax_total: DecimalString
    total: DecimalString
    amount_paid: DecimalString
    amount_credited: DecimalString = Field(
        description="Σ of the issued credit notes correcting this invoice."
    )
    amount_due: DecimalString = Field(description="total − amount_paid − amount_credited.")
    credited_invoice_id: UUID | None = Field(description="For a credit note: what it corrects.")
    created_at: IsoDatetime
    sent_at: IsoDatetime | None = Field(description="When it was first e-mailed to the client.")
    portal_url: str | None = Field(
        description="The client's secret link (absolute); null until sent or once revoked."
    )

    @staticmethod
    def resolve_id(invoice: Invoice) -> UUID:
        return invoice.public_id

    @staticmethod
    def resolve_overdue(invoice: Invoice) -> bool:
        return invoice.is_overdue

    @staticmethod
    def resolve_client_id(invoice: Invoice) -> UUID:
        return invoice.client.public_id

    @staticmethod
    def resolve_client_name(invoice: Invoice) -> str:
        return invoice.client.name

    @staticmethod
    def resolve_credited_invoice_id(invoice: Invoice) -> UUID | None:
        if invoice.credited_invoice_id is None:
            return None
        return invoice.credited_invoice.public_id  # type: ignore[union-attr]

    @staticmethod
    def resolve_portal_url(invoice: Invoice) -> str | None:
        return sending.portal_url(invoice)


class InvoiceOut(InvoiceSummaryOut):
    lines: list[LineOut]
    tax_groups: list[TaxGroupOut] = Field(description="Tax per rate, on the discounted base.")
    payments: list[PaymentOut] = Field(
        description=f"The latest {selectors.RECENT_LIMIT}, oldest first; all of them, "
        "paginated: GET /invoices/{id}/payments."
    )
    activity: list[ActivityOut] = Field(
        description=f"The latest {selectors.RECENT_LIMIT} events, oldest first; all of them, "
        "paginated: GET /invoices/{id}/activity."
    )
    credit_note_ids: list[UUID] = Field(description="Credit notes issued against this invoice.")

    @staticmethod
    def resolve_lines(invoice: Invoice) -> list[InvoiceLine]:
        return list(invoice.lines.all())

    @staticmethod
    def resolve_tax_groups(invoice: Invoice) -> list[Any]:
        return list(invoice_tax_groups(invoice))

    @staticmethod
    def resolve_payments(invoice: Invoice) -> list[Payment]:
        return selectors.invoice_recent_payments(invoice)[0]

    @staticmethod
    def resolve_activity(invoice: Invoice) -> list[InvoiceActivity]:
        return selectors.invoice_recent_activity(invoice)[0]

    @staticmethod
    def resolve_credit_note_ids(invoice: Invoice) -> list[UUID]:
        return [note.public_id for note in invoice.credit_notes.all()]


def invoice_tax_groups(invoice: Invoice) -> tuple[Any, ...]:
    """The per-rate breakdown, re-computed from the (prefetched) lines with the same pure
    arithmetic the services store totals with, so it always adds up to tax_total."""
    totals = document_totals(invoice, invoice.lines.all())
    return totals.tax_groups


class ReceivableOut(Schema):
    currency: str
    outstanding: DecimalString = Field(description="Σ total − paid of issued invoices.")
    overdue: DecimalString = Field(description="The part of it past its due date.")
    invoice_count: int
    overdue_count: int


# The fields of a priced line as every document takes them (a quote's lines are just these).
class PricedLineIn(Schema):
    description: Description
    quantity: Quantity
    unit: Unit = "hours"
    unit_price: Price
    tax_rate: TaxRate = Decimal("0")


class LineIn(PricedLineIn):
    project_id: UUID | None = None


class InvoiceFilterIn(Schema):
    status: StatusFilter | None = Field(None, description="A status, or `overdue`.")
    client_id: UUID | None = None
    date_from: dt.date | None = Field(None, description="Issue date on or after.")
    date_to: dt.date | None = Field(None, description="Issue date on or before.")
    kind: Kind = "invoice"

    @field_validator("date_to")
    @classmethod
    def _not_before_date_from(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        date_from = info.data.get("date_from")
        if value and date_from and value < date_from:
            raise ValueError("date_to is before date_from.")
        return value


class InvoiceIn(Schema):
    client_id: UUID
    lines: list[LineIn] = Field(default_factory=list, max_length=500)
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    discount_type: DiscountType = "none"
    discount_value: Price = Decimal("0")
    notes: str = ""


class InvoicePatch(Schema):
    """Only the fields sent change; `lines`, when sent, replace all the lines."""

    lines: list[LineIn] = omittable(max_length=500)
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    discount_type: DiscountType = omittable()
    discount_value: Price = omittable()
    notes: str = omittable()


class FromTimeIn(Schema):
    client_id: UUID
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    project_ids: list[UUID] | None = Field(None, description="Default: all the client's.")
    grouping: Grouping = Field("project", description="project | project_day | entry")
    issue_date: dt.date | None = None
    fixed_fee_percent: Decimal | None = Field(
        None,
        gt=0,
        le=100,
        decimal_places=2,
        description="Part of each fixed-fee project's fee to bill, in percent (default 100).",
    )

    @field_validator("date_to")
    @classmethod
    def _not_before_date_from(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        date_from = info.data.get("date_from")
        if value and date_from and value < date_from:
            raise ValueError("date_to is before date_from.")
        return value


class IssueIn(Schema):
    issue_date: dt.date | None = Field(None, description="Default: today.")


class VoidIn(Schema):
    reason: Reason = ""


class CreditNoteIn(Schema):
    line_ids: list[UUID] | None = Field(None, description="Default: every line.")
    reason: Reason = ""


class PaymentIn(Schema):
    amount: PaymentAmount
    date: dt.date | None = Field(None, description="Default: today.")
    method: PaymentMethod = "bank_transfer"
    reference: Reference = ""


# --- Helpers ------------------------------------------------------------------------------


def _invoice(request: HttpRequest, invoice_id: UUID) -> Invoice:
    """The invoice with everything the response shows (lines, payments, activity…)."""
    return selectors.invoice_get(workspace=_workspace(request), public_id=invoice_id)


def _target(request: HttpRequest, invoice_id: UUID) -> Invoice:
    """The invoice an action works on, in one query: the service re-reads it under a lock,
    and the answer is loaded afresh with `_invoice` once the action is done."""
    invoices = selectors.invoice_list(workspace=_workspace(request), kind=None)
    return get_object_or_404(invoices, public_id=invoice_id)


def _client_for_body(workspace: Workspace, client_id: UUID) -> Client:
    return referenced(
        client_get,
        field="client_id",
        message="Client not found.",
        workspace=workspace,
        public_id=client_id,
    )


def _lines_for_service(workspace: Workspace, lines: list[LineIn]) -> list[dict[str, Any]]:
    """Line dicts as the services take them, with each project_id loaded in the workspace
    (another workspace's project is a 400 naming the line's field)."""
    result: list[dict[str, Any]] = []
    projects: dict[UUID, Project] = {}
    for index, line in enumerate(lines):
        data = line.dict(exclude={"project_id"})
        if line.project_id is not None:
            if line.project_id not in projects:
                projects[line.project_id] = referenced(
                    project_get,
                    field=f"lines.{index}.project_id",
                    message="Project not found.",
                    workspace=workspace,
                    public_id=line.project_id,
                )
            data["project"] = projects[line.project_id]
        result.append(data)
    return result


# --- Endpoints ----------------------------------------------------------------------------
# The fixed paths come before /{invoice_id}, so "receivables" is never read as an id.


@router.get("", response=list[InvoiceSummaryOut], url_name="invoice_list")
@paginate(CappedLimitOffsetPagination)
def list_invoices(request: HttpRequest, filters: Query[InvoiceFilterIn]) -> QuerySet[Invoice]:
    invoices = selectors.invoice_list(
        workspace=_workspace(request),
        kind=filters.kind,
        status=filters.status,
        client_public_id=filters.client_id,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    # Credit notes show the id of the invoice they correct: one join, not a query per row.
    return invoices.select_related("credited_invoice")


@router.post("", response={201: InvoiceOut}, url_name="invoice_create")
def create_invoice(request: HttpRequest, payload: InvoiceIn) -> Status[Invoice]:
    workspace = _workspace(request)
    client = _client_for_body(workspace, payload.client_id)
    invoice = services.invoice_create_draft(
        workspace=workspace,
        user=_user(request),
        client=client,
        lines=_lines_for_service(workspace, payload.lines),
        issue_date=payload.issue_date,
        due_date=payload.due_date,
        discount_type=payload.discount_type,
        discount_value=payload.discount_value,
        notes=payload.notes,
    )
    return Status(201, _invoice(request, invoice.public_id))


@router.get("/receivables", response=list[ReceivableOut], url_name="invoice_receivables")
def receivables(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.invoice_receivables(workspace=_workspace(request))


@router.post("/from-time", response={201: InvoiceOut}, url_name="invoice_from_time")
def create_invoice_from_time(request: HttpRequest, payload: FromTimeIn) -> Status[Invoice]:
    workspace = _workspace(request)
    client = _client_for_body(workspace, payload.client_id)
    invoice = services.invoice_create_from_time(
        workspace=workspace,
        user=_user(request),
        client=client,
        date_from=payload.date_from,
        date_to=payload.date_to,
        project_public_ids=payload.project_ids,
        grouping=payload.grouping,
        issue_date=payload.issue_date,
        fixed_fee_percent=payload.fixed_fee_percent,
    )
    return Status(201, _invoice(request, invoice.public_id))


@router.get("/{uuid:invoice_id}", response=InvoiceOut, url_name="invoice_detail")
def get_invoice(request: HttpRequest, invoice_id: UUID) -> Invoice:
    return _invoice(request, invoice_id)


@router.patch("/{uuid:invoice_id}", response=InvoiceOut)
def update_invoice(request: HttpRequest, invoice_id: UUID, payload: InvoicePatch) -> Invoice:
    invoice = _target(request, invoice_id)
    fields = payload.dict(exclude_unset=True)
    if "lines" in fields:
        fields["lines"] = _lines_for_service(_workspace(request), payload.lines)
    services.invoice_update_draft(invoice=invoice, user=_user(request), **fields)
    return _invoice(request, invoice_id)


@router.delete("/{uuid:invoice_id}", response={204: None})
def delete_invoice(request: HttpRequest, invoice_id: UUID) -> Status[None]:
    invoice = _target(request, invoice_id)
    services.invoice_delete_draft(invoice=invoice, user=_user(request))
    return Status(204, None)


@router.post("/{uuid:invoice_id}/issue", response=InvoiceOut, url_name="invoice_issue")
def issue_invoice(
    request: HttpRequest, invoice_id: UUID, payload: Body[IssueIn | None] = None
) -> Invoice:
    invoice = _target(request, invoice_id)
    services.invoice_issue(
        invoice=invoice, user=_user(request), issue_date=payload.issue_date if payload else None
    )
    return _invoice(request, invoice_id)


@router.post("/{uuid:invoice_id}/void", response=InvoiceOut, url_name="invoice_void")
def void_invoice(
    request: HttpRequest, invoice_id: UUID, payload: Body[VoidIn | None] = None
) -> Invoice:
    invoice = _target(request, invoice_id)
    services.invoice_void(
        invoice=invoice, user=_user(request), reason=payload.reason if payload else ""
    )
    return _invoice(request, invoice_id)


@router.post(
    "/{uuid:invoice_id}/credit-note", response={201: InvoiceOut}, url_name="invoice_credit_note"
)
def credit_invoice(
    request: HttpRequest, invoice_id: UUID, payload: Body[CreditNoteIn | None] = None
) -> Status[Invoice]:
    invoice = _target(request, invoice_id)
    note = services.credit_note_create(
        invoice=invoice,
        user=_user(request),
        line_public_ids=payload.line_ids if payload else None,
        reason=payload.reason if payload else "",
    )
    return Status(201, _invoice(request, note.public_id))


@router.get(
    "/{uuid:invoice_id}/payments", response=list[PaymentOut], url_name="invoice_payment_list"
)
@paginate(LimitOffsetPagination)
def list_payments(request: HttpRequest, invoice_id: UUID) -> QuerySet[Payment]:
    """All the invoice's payments, oldest first, a page at a time."""
    # The invoice row (for its scope), then COUNT and one page of its payments: not the
    # five queries of the whole detail.
    return selectors.invoice_payment_list(invoice=_target(request, invoice_id))


@router.get(
    "/{uuid:invoice_id}/activity", response=list[ActivityOut], url_name="invoice_activity_list"
)
@paginate(LimitOffsetPagination)
def list_activity(request: HttpRequest, invoice_id: UUID) -> QuerySet[InvoiceActivity]:
    """All the invoice's activity, oldest first, a page at a time."""
    return selectors.invoice_activity_list(invoice=_target(request, invoice_id))


@router.post(
    "/{uuid:invoice_id}/payments", response={201: PaymentOut}, url_name="invoice_payment_create"
)
def record_payment(request: HttpRequest, invoice_id: UUID, payload: PaymentIn) -> Status[Payment]:
    invoice = _target(request, invoice_id)
    payment = services.payment_record(
        invoice=invoice,
        user=_user(request),
        amount=payload.amount,
        date=payload.date or _today(_workspace(request)),
        method=payload.method,
        reference=payload.reference,
    )
    return Status(201, payment)


@router.delete(
    "/{uuid:invoice_id}/payments/{uuid:payment_id}",
    response=InvoiceOut,
    url_name="invoice_payment_delete",
)
def delete_payment(request: HttpRequest, invoice_id: UUID, payment_id: UUID) -> Invoice:
    """Answers with the invoice, whose status and balance the deletion moved back."""
    invoice = _target(request, invoice_id)
    payment = selectors.payment_get(workspace=_workspace(request), public_id=payment_id)
    if payment.invoice_id != invoice.pk:
        raise Http404("No such payment on this invoice.")
    services.payment_delete(payment=payment, user=_user(request))
    return _invoice(request, invoice_id)


# --- Sending and the PDF ------------------------------------------------------------------


class SendIn(Schema):
    to_email: str | None = Field(None, description="Default: the client's e-mail address.")


class SendOut(Schema):
    job_id: UUID = Field(description="Follow it at /api/v1/jobs/{job_id}.")
    delivery_id: UUID


class PdfJobOut(Schema):
    job_id: UUID = Field(description="The render job: the PDF is its result once it succeeds.")


@router.post("/{uuid:invoice_id}/send", response={202: SendOut}, url_name="invoice_send")
def send_invoice(
    request: HttpRequest, invoice_id: UUID, payload: Body[SendIn | None] = None
) -> Status[dict[str, UUID]]:
    """Queue one e-mail to the client with the PDF attached and the client link; answers at
    once with the job to follow. Each call is one more e-mail."""
    invoice = _target(request, invoice_id)
    delivery = sending.invoice_send_start(
        invoice=invoice, user=_user(request), to_email=payload.to_email if payload else None
    )
    assert delivery.job is not None
    return Status(202, {"job_id": delivery.job.public_id, "delivery_id": delivery.public_id})


@router.get(
    "/{uuid:invoice_id}/pdf",
    response={200: None, 202: PdfJobOut},
    url_name="invoice_pdf",
    openapi_extra={
        "responses": {
            200: {
                "description": "The PDF, when it shows the invoice as it is now.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def invoice_pdf(request: HttpRequest, invoice_id: UUID) -> FileResponse | Status[dict[str, UUID]]:
    """The file when the stored PDF is current; else 202 with the job that renders it (its
    result is the PDF). Never renders in the request."""
    invoice = _invoice(request, invoice_id)
    job = pdf.invoice_pdf_request(invoice=invoice, user=_user(request))
    if job is not None:
        return Status(202, {"job_id": job.public_id})
    try:
        file = invoice.pdf_file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The PDF file is missing; ask for it again in a moment.") from error
    return FileResponse(
        file, filename=pdf.invoice_pdf_filename(invoice), content_type="application/pdf"
    )
