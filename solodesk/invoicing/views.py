"""Invoice pages: the list with receivables, drafting by hand or from tracked time, the
invoice page with its actions, and payments. Reads through selectors, writes through
services; another workspace's invoice is a 404. Pages run in the workspace's time zone, so
"today" (default dates, overdue) is the workspace's day."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_page
from solodesk.core.exceptions import ApplicationError
from solodesk.core.prepared import PreparedRows
from solodesk.core.web import (
    add_service_error,
    form_with_lines_page,
    service_error_messages,
    url_for,
)
from solodesk.invoicing import pdf, selectors, sending, services
from solodesk.invoicing.calculation import TaxGroup, document_totals
from solodesk.invoicing.forms import (
    CreditNoteForm,
    FromTimeForm,
    InvoiceForm,
    PaymentForm,
    SendForm,
    VoidForm,
    document_forms,
)
from solodesk.invoicing.listing import invoice_rows_html
from solodesk.invoicing.models import Invoice
from solodesk.prompts.selectors import prompt_list_for_user
from solodesk.prompts.services import prompt_events_record_shown

PAGE_SIZE = 50
# The list counts at most this many rows past the start of the page it shows: an exact
# COUNT(*) of 60,000 invoices costs more than the whole rest of the page.
COUNT_CAP = 1000
# The list's tabs: (key, label, selector arguments).
TABS: list[tuple[str, str, dict[str, Any]]] = [
    ("all", "All", {}),
    ("draft", "Drafts", {"status": Invoice.Status.DRAFT}),
    ("issued", "Issued", {"status": Invoice.Status.ISSUED}),
    ("partially_paid", "Partially paid", {"status": Invoice.Status.PARTIALLY_PAID}),
    ("overdue", "Overdue", {"status": "overdue"}),
    ("paid", "Paid", {"status": Invoice.Status.PAID}),
    ("void", "Void", {"status": Invoice.Status.VOID}),
    ("credit_notes", "Credit notes", {"kind": Invoice.Kind.CREDIT_NOTE}),
]
TAB_FILTERS = {key: filters for key, _label, filters in TABS}


def _invoice(request: HttpRequest, public_id: UUID) -> Invoice:
    return selectors.invoice_get(workspace=_workspace(request), public_id=public_id)


def _detail_url(invoice: Invoice) -> str:
    return reverse("invoicing:detail", args=[invoice.public_id])


def _label(invoice: Invoice) -> str:
    if invoice.number:
        kind = "Credit note" if invoice.kind == Invoice.Kind.CREDIT_NOTE else "Invoice"
        return f"{kind} {invoice.number}"
    return "The draft"


def tax_groups(invoice: Invoice) -> tuple[TaxGroup, ...]:
    """The per-rate breakdown, from the prefetched lines with the services' arithmetic."""
    return document_totals(invoice, invoice.lines.all()).tax_groups


# --- List ---------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """A paginator that counts no further than `cap` rows past the start of the page
    asked for, in one `SELECT COUNT(*) FROM (… LIMIT n)` that stops early: exact for a
    short list (`count_is_exact`), "`count_shown`+" for a long one, with a next page as
    long as there are rows after this one. Page numbers past the end still land on the
    last page: from there the count reaches the end and is exact.

    `first_counted` and `capped_count`, when given, are the same rows' first page with the
    capped count as its last column, and the capped count alone, compiled once
    (`PreparedRows`, run with `values`; selectors.invoice_list_prepared): the first page
    and its count are one query, a later page's count the other; the queryset reads the
    pages after the first."""

    def __init__(
        self,
        object_list: QuerySet[Any],
        per_page: int,
        *,
        number: Any,
        cap: int,
        first_counted: PreparedRows | None = None,
        capped_count: PreparedRows | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(object_list, per_page)
        self._rows = object_list
        try:
            page = max(int(number), 1)
        except (TypeError, ValueError):
            page = 1
        self._limit = (page - 1) * per_page + cap + 1
        # The page asked for is the first: it and the count are one query.
        self._first_counted = first_counted if page == 1 else None
        self._capped_count = capped_count
        self._values = values or {}
        self._first_rows: list[tuple[Any, ...]] = []

    @cached_property
    def count(self) -> int:
        # Without ORDER BY, PostgreSQL may count from any index (index-only, LIMIT-bound);
        # only the ids, whatever the rows' columns.
        if self._first_counted is not None:
            rows = self._first_counted.rows(
                limit=self.per_page, count_limit=self._limit, **self._values
            )
            self._first_rows = [row[:-1] for row in rows]
            return rows[0][-1] if rows else 0  # no first row: nothing to count
        if self._capped_count is not None:
            return self._capped_count.count(limit=self._limit, **self._values)
        return self._rows.order_by().values("pk")[: self._limit].count()

    def page(self, number: Any) -> Page:
        """Past the first page, the rows are found by their ids first (an index-only scan
        however far the offset), then read whole: a deep page does not read every row it
        skips (page 1,000 of 60,000 invoices: 156 → 15 ms)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if bottom == 0:
            if self._first_counted is not None:
                return Page(self._first_rows[:top], number, self)
            return Page(self._rows[:top], number, self)
        ids = self._rows.values("pk")[bottom:top]
        return Page(self._rows.filter(pk__in=ids), number, self)

    @property
    def count_is_exact(self) -> bool:
        return self.count < self._limit

    @property
    def count_shown(self) -> int:
        """The count when exact; else the page shows it with a "+": there are more."""
        return self.count if self.count_is_exact else self._limit - 1


@require_GET
@workspace_page
def invoice_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), receivables per currency,
    # the first page of invoices (+ client) with the COUNT of the tab's invoices (capped) as
    # a column (a later page, or the overdue tab: the COUNT, then the page), the overdue
    # prompts (one UNION query; with prompts: + the user's prompt states, + one INSERT of
    # "shown").
    workspace = _workspace(request)
    prompts = prompt_list_for_user(
        workspace=workspace, user=_user(request), placement="invoice_list"
    )
    if prompts:
        prompt_events_record_shown(workspace=workspace, user=_user(request), prompts=prompts)
    tab = request.GET.get("status", "all")
    if tab not in TAB_FILTERS:
        tab = "all"
    filters = TAB_FILTERS[tab]
    invoices = selectors.invoice_list_rows(workspace=workspace, **filters)
    number = request.GET.get("page")
    page = CappedPaginator(
        invoices,
        PAGE_SIZE,
        number=number,
        cap=COUNT_CAP,
        first_counted=selectors.invoice_list_prepared("first_counted", **filters),
        capped_count=selectors.invoice_list_prepared("count", **filters),
        values={"workspace_id": workspace.pk},
    ).get_page(number)
    page.object_list = [selectors.InvoiceListRow._make(row) for row in page.object_list]
    return render(
        request,
        "invoicing/invoice_list.html",
        {
            "nav": "invoices",
            "page": page,
            "rows": invoice_rows_html(page.object_list, list_url=url_for("invoicing:list")),
            "tab": tab,
            "tabs": [(key, label) for key, label, _filters in TABS],
            "receivables": selectors.invoice_receivables(workspace=workspace),
            "prompts": prompts,
        },
    )


# --- Drafts -------------------------------------------------------------------------------


def _draft_form_page(request: HttpRequest, invoice: Invoice | None) -> HttpResponse:
    workspace = _workspace(request)
    form, formset = document_forms(request, InvoiceForm, invoice, workspace=workspace)

    def save() -> Invoice:
        if invoice is None:
            return services.invoice_create_draft(
                workspace=workspace,
                user=_user(request),
                client=form.cleaned_data["client"],
                lines=formset.line_dicts(),
                **form.service_fields(),
            )
        return services.invoice_update_draft(
            invoice=invoice,
            user=_user(request),
            lines=_keep_projects(invoice, formset.line_dicts()),
            **form.service_fields(),
        )

    return form_with_lines_page(
        request,
        form=form,
        formset=formset,
        save=save,
        success_url=_detail_url,
        success_message="Draft created." if invoice is None else "Draft saved.",
        template="invoicing/invoice_form.html",
        context={"nav": "invoices", "invoice": invoice},
    )


def _keep_projects(invoice: Invoice, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The form has no project field: a kept line keeps the project it had (from time)."""
    projects = {line.public_id: line.project for line in invoice.lines.all()}
    for line in lines:
        if line.get("public_id") in projects:
            line["project"] = projects[line["public_id"]]
    return lines


@require_http_methods(["GET", "POST"])
@workspace_page
def invoice_new(request: HttpRequest) -> HttpResponse:
    return _draft_form_page(request, None)


@require_http_methods(["GET", "POST"])
@workspace_page
def invoice_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    if not invoice.is_draft:
        messages.error(request, "An issued invoice cannot be changed; issue a credit note instead.")
        return redirect(_detail_url(invoice))
    return _draft_form_page(request, invoice)


def _date_param(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@workspace_page
def invoice_from_time(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    if request.method == "POST":
        form = FromTimeForm(request.POST, workspace=workspace)
        if form.is_valid():
            data = form.cleaned_data
            try:
                invoice = services.invoice_create_from_time(
                    workspace=workspace,
                    user=_user(request),
                    client=data["client"],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    project_public_ids=[p.public_id for p in data["projects"]] or None,
                    grouping=data["grouping"],
                    fixed_fee_percent=data.get("fixed_fee_percent"),
                )
            except (ApplicationError, ValidationError) as error:
                add_service_error(form, error)
            else:
                messages.success(request, "Draft created from your unbilled time.")
                return redirect(_detail_url(invoice))
    else:
        # Pre-filled from the query string (a prompt's "Invoice this time" button).
        form = FromTimeForm(
            workspace=workspace,
            initial={
                "client": request.GET.get("client"),
                "date_from": _date_param(request.GET.get("date_from")),
                "date_to": _date_param(request.GET.get("date_to")),
            },
        )
    return render(
        request,
        "invoicing/from_time.html",
        {
            "nav": "invoices",
            "form": form,
            "unbilled": selectors.unbilled_time_by_client(workspace=workspace),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@workspace_page
def invoice_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    try:
        services.invoice_delete_draft(invoice=invoice, user=_user(request))
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
        return redirect(_detail_url(invoice))
    messages.success(request, "Draft deleted; its time is unbilled again.")
    return redirect(reverse("invoicing:list"))


# --- The invoice page and its actions ------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    invoice: Invoice,
    *,
    payment_form: PaymentForm | None = None,
    void_form: VoidForm | None = None,
    credit_form: CreditNoteForm | None = None,
    send_form: SendForm | None = None,
) -> HttpResponse:
    workspace = _workspace(request)
    if send_form is None:
        send_form = SendForm(prefix="send", initial={"to_email": invoice.client.email})
    if payment_form is None:
        payment_form = PaymentForm(
            initial={"amount": invoice.amount_due, "date": timezone.localdate()}
        )
    is_invoice = invoice.kind == Invoice.Kind.INVOICE
    is_issued = invoice.status == Invoice.Status.ISSUED
    can_pay = is_invoice and invoice.status in {
        Invoice.Status.ISSUED,
        Invoice.Status.PARTIALLY_PAID,
    }
    payments, more_payments = selectors.invoice_recent_payments(invoice)
    activities, more_activity = selectors.invoice_recent_activity(invoice)
    has_payments = bool(payments)
    if invoice.is_draft:
        seller = {
            "name": workspace.name,
            "address": workspace.address,
            "tax_id": workspace.tax_id,
            "payment_details": workspace.payment_details,
        }
        client = invoice.client
        buyer = {
            "name": client.name,
            "email": client.email,
            "address": client.address,
            "tax_id": client.tax_id,
        }
    else:
        seller, buyer = invoice.seller, invoice.buyer
    errors = any(
        f is not None and f.errors for f in (payment_form, void_form, credit_form, send_form)
    )
    return render(
        request,
        "invoicing/invoice_detail.html",
        {
            "nav": "invoices",
            "invoice": invoice,
            "seller": seller,
            "buyer": buyer,
            "tax_groups": tax_groups(invoice),
            "payment_form": payment_form,
            "void_form": void_form or VoidForm(prefix="void"),
            "credit_form": credit_form or CreditNoteForm(invoice=invoice, prefix="credit"),
            "can_edit": invoice.is_draft,
            "can_issue": invoice.is_draft,
            "can_pay": can_pay,
            "can_void": is_issued and not has_payments and not invoice.credit_notes.all(),
            "can_credit": is_invoice
            and invoice.status
            in {Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID},
            "send_form": send_form,
            "can_send": sending.invoice_can_send(invoice),
            "portal_url": sending.portal_url(invoice),
            "deliveries": selectors.invoice_delivery_list(invoice=invoice),
            "payments": payments,
            "more_payments": more_payments,
            "activities": activities,
            "more_activity": more_activity,
        },
        status=400 if errors else 200,
    )


@require_GET
@workspace_page
def invoice_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), the invoice (+ client,
    # credited invoice), its lines, the latest payments (+ who recorded them), the latest
    # activity (+ actor), credit notes, the latest deliveries (+ who sent them).
    return _detail_page(request, _invoice(request, public_id))


def _history_page(request: HttpRequest, public_id: UUID, *, what: str) -> HttpResponse:
    """All of an invoice's payments or activity, oldest first, 50 a page (its page shows
    the latest 20). Queries: session, user (+ timer), membership (+ workspace), the
    invoice (+ client), COUNT of the rows, one page of them (+ who recorded them)."""
    invoice = get_object_or_404(
        selectors.invoice_list(workspace=_workspace(request), kind=None), public_id=public_id
    )
    if what == "payments":
        rows: QuerySet[Any] = selectors.invoice_payment_list(invoice=invoice)
    else:
        rows = selectors.invoice_activity_list(invoice=invoice)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "invoicing/invoice_history.html",
        {"nav": "invoices", "invoice": invoice, "what": what, "page": page},
    )


@require_GET
@workspace_page
def invoice_payment_list(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _history_page(request, public_id, what="payments")


@require_GET
@workspace_page
def invoice_activity_list(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _history_page(request, public_id, what="activity")


@require_POST
@workspace_page
def invoice_issue(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    try:
        invoice = services.invoice_issue(invoice=invoice, user=_user(request))
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
    else:
        messages.success(request, f"Invoice {invoice.number} issued.")
    return redirect(_detail_url(invoice))


@require_POST
@workspace_page
def invoice_void(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    form = VoidForm(request.POST, prefix="void")
    if not form.is_valid():
        return _detail_page(request, invoice, void_form=form)
    try:
        services.invoice_void(
            invoice=invoice, user=_user(request), reason=form.cleaned_data["reason"]
        )
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
    else:
        messages.success(request, f"{_label(invoice)} voided; its time is unbilled again.")
    return redirect(_detail_url(invoice))


@require_POST
@workspace_page
def invoice_credit_note(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    form = CreditNoteForm(request.POST, invoice=invoice, prefix="credit")
    if not form.is_valid():
        return _detail_page(request, invoice, credit_form=form)
    line_ids = [UUID(value) for value in form.cleaned_data["lines"]] or None
    try:
        note = services.credit_note_create(
            invoice=invoice,
            user=_user(request),
            line_public_ids=line_ids,
            reason=form.cleaned_data["reason"],
        )
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
        return redirect(_detail_url(invoice))
    messages.success(request, f"Credit note {note.number} issued.")
    return redirect(_detail_url(note))


@require_POST
@workspace_page
def payment_new(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.payment_record(invoice=invoice, user=_user(request), **form.cleaned_data)
        except (ApplicationError, ValidationError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Payment recorded.")
            return redirect(_detail_url(invoice))
    return _detail_page(request, invoice, payment_form=form)


@require_POST
@workspace_page
def payment_delete(request: HttpRequest, public_id: UUID, payment_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    payment = selectors.payment_get(workspace=_workspace(request), public_id=payment_id)
    if payment.invoice_id != invoice.pk:
        raise Http404("No such payment on this invoice.")
    try:
        services.payment_delete(payment=payment, user=_user(request))
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
    else:
        messages.success(request, "Payment deleted.")
    return redirect(_detail_url(invoice))


# --- Sending, the PDF and the client link --------------------------------------------------


@require_POST
@workspace_page
def invoice_send(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Queue the e-mail and come back to the invoice, whose deliveries list follows it."""
    invoice = _invoice(request, public_id)
    form = SendForm(request.POST, prefix="send")
    if not form.is_valid():
        return _detail_page(request, invoice, send_form=form)
    try:
        delivery = sending.invoice_send_start(
            invoice=invoice, user=_user(request), to_email=form.cleaned_data["to_email"]
        )
    except (ApplicationError, ValidationError) as error:
        if isinstance(error, ApplicationError) and "to_email" in error.errors:
            add_service_error(form, error)
            return _detail_page(request, invoice, send_form=form)
        service_error_messages(request, error)
        return redirect(_detail_url(invoice))
    messages.success(
        request, f"{_label(invoice)} is on its way to {delivery.to_email}: see Deliveries below."
    )
    return redirect(_detail_url(invoice) + "#deliveries")


# FileResponse is a streaming response, not the HttpResponse the decorators' hints name.
@require_GET  # type: ignore[arg-type]
@workspace_page  # type: ignore[arg-type]
def invoice_pdf(request: HttpRequest, public_id: UUID) -> HttpResponse | FileResponse:
    """The PDF when the stored one is current; else start rendering it (never here) and go
    to the job's page, whose download is the PDF."""
    invoice = _invoice(request, public_id)
    job = pdf.invoice_pdf_request(invoice=invoice, user=_user(request))
    if job is not None:
        return redirect(reverse("core:job_detail", args=[job.public_id]))
    try:
        file = invoice.pdf_file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The PDF file is missing.") from error
    return FileResponse(
        file, filename=pdf.invoice_pdf_filename(invoice), content_type="application/pdf"
    )


@require_POST
@workspace_page
def portal_link_regenerate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    had_link = bool(invoice.portal_token)
    try:
        sending.portal_link_regenerate(invoice=invoice, user=_user(request))
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
    else:
        messages.success(
            request,
            "New client link made; the old one no longer works."
            if had_link
            else "Client link made.",
        )
    return redirect(_detail_url(invoice) + "#client-link")


@require_POST
@workspace_page
def portal_link_revoke(request: HttpRequest, public_id: UUID) -> HttpResponse:
    invoice = _invoice(request, public_id)
    sending.portal_link_revoke(invoice=invoice, user=_user(request))
    messages.success(request, "Client link revoked: it now leads nowhere.")
    return redirect(_detail_url(invoice) + "#client-link")


@require_GET
@workspace_page
def delivery_status(request: HttpRequest, public_id: UUID, delivery_id: UUID) -> HttpResponse:
    """One row of the deliveries table; htmx polls it while the e-mail is on its way.
    Queries: session, user (+ timer), membership (+ workspace), the delivery (+ invoice)."""
    delivery = selectors.invoice_delivery_get(
        workspace=_workspace(request), invoice_public_id=public_id, public_id=delivery_id
    )
    return render(
        request,
        "invoicing/_delivery_row.html",
        {"delivery": delivery, "invoice": delivery.invoice},
    )
