"""The client portal: what the freelancer's client sees behind the secret link.

No login and no workspace: the token is the only key, and it opens this one document (no
link leads anywhere else in the application). A wrong, revoked or draft token is a plain
404. The first visit by someone other than a member of the workspace records "viewed".
Pages are never cached and never send a Referer, so the token does not leak onwards."""

from __future__ import annotations

from typing import TypeVar

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from solodesk.accounts.models import User
from solodesk.invoicing import pdf, selectors, sending
from solodesk.invoicing.calculation import document_totals
from solodesk.invoicing.models import Invoice

# The "PDF is being prepared" page reloads itself every 2 s, for about a minute at most.
PDF_PENDING_MAX_ATTEMPTS = 30

_Response = TypeVar("_Response", bound=HttpResponseBase)


def _private(response: _Response) -> _Response:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _labels(invoice: Invoice) -> tuple[str, str]:
    kind = "credit note" if invoice.kind == Invoice.Kind.CREDIT_NOTE else "invoice"
    return f"{kind.capitalize()} {invoice.number}", kind


def _visitor_is_member(request: HttpRequest, invoice: Invoice) -> bool:
    # Free for the client (no session cookie, so no query); the logged-in freelancer who
    # opens their own link costs their session, user and one membership query.
    user = request.user
    if not user.is_authenticated:
        return False
    assert isinstance(user, User)
    return selectors.invoice_portal_visitor_is_member(invoice=invoice, user=user)


@require_GET
@never_cache
def invoice_portal(request: HttpRequest, token: str) -> HttpResponse:
    # Queries for the client: 1 the invoice by its token (+ the invoice a credit note
    # corrects), 2 its lines, 3 its payments; the very first visit adds 4 the conditional
    # UPDATE of portal_viewed_at and 5 the "viewed" activity row.
    invoice = selectors.invoice_get_for_portal(token=token)
    if invoice.portal_viewed_at is None and not _visitor_is_member(request, invoice):
        sending.portal_view_record(invoice=invoice)
    lines = list(invoice.lines.all())
    totals = document_totals(invoice, lines)
    label, kind_label = _labels(invoice)
    is_credit_note = invoice.kind == Invoice.Kind.CREDIT_NOTE
    seller = invoice.seller or {}
    response = render(
        request,
        "invoicing/portal/invoice.html",
        {
            "invoice": invoice,
            "token": token,
            "label": label,
            "kind_label": kind_label,
            "is_credit_note": is_credit_note,
            "is_overdue": invoice.is_overdue,
            "seller": seller,
            "buyer": invoice.buyer or {},
            "tax_groups": totals.tax_groups,
            "show_payment_details": bool(seller.get("payment_details"))
            and not is_credit_note
            and invoice.amount_due > 0,
        },
    )
    return _private(response)


# FileResponse is a streaming response, not the HttpResponse the decorators' hints name.
@require_GET  # type: ignore[arg-type]
@never_cache
def invoice_portal_pdf(request: HttpRequest, token: str) -> HttpResponse | FileResponse:
    """The current PDF; if it is not rendered yet (or the invoice changed since), a page
    that starts the render in the background and reloads itself until the file is there."""
    invoice = selectors.invoice_get_for_portal(token=token)
    job = sending.portal_pdf_request(invoice=invoice)
    if job is None:
        try:
            file = invoice.pdf_file.open("rb")
        except FileNotFoundError as error:
            raise Http404("The PDF is not available.") from error
        return _private(
            FileResponse(
                file, filename=pdf.invoice_pdf_filename(invoice), content_type="application/pdf"
            )
        )
    try:
        attempt = int(request.GET.get("attempt", "0"))
    except ValueError:
        attempt = 0
    label, kind_label = _labels(invoice)
    url = reverse("portal:invoice_pdf", args=[token])
    response = render(
        request,
        "invoicing/portal/pdf_pending.html",
        {
            "token": token,
            "label": label,
            "kind_label": kind_label,
            "keep_polling": attempt < PDF_PENDING_MAX_ATTEMPTS,
            "retry_url": f"{url}?attempt={attempt + 1}",
        },
        status=202,
    )
    return _private(response)
