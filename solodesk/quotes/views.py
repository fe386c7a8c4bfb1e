"""Quote pages: the list, drafting with a formset of lines, the quote page with send and
convert. Reads through selectors, writes through services; another workspace's quote is a
404. Pages run in the workspace's time zone, so "today" (expired) is the workspace's day."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_page
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import form_with_lines_page, service_error_messages
from solodesk.invoicing.forms import document_forms
from solodesk.quotes import pdf, selectors, services
from solodesk.quotes.forms import ConvertForm, QuoteForm, SendForm
from solodesk.quotes.models import Quote

PAGE_SIZE = 50
TABS: list[tuple[str, str]] = [
    ("all", "All"),
    (Quote.Status.DRAFT, "Drafts"),
    (Quote.Status.SENT, "Sent"),
    (Quote.Status.ACCEPTED, "Accepted"),
    (Quote.Status.DECLINED, "Declined"),
    (Quote.EXPIRED, "Expired"),
]
TAB_KEYS = {key for key, _label in TABS}


def _quote(request: HttpRequest, public_id: UUID) -> Quote:
    return selectors.quote_get(workspace=_workspace(request), public_id=public_id)


def _detail_url(quote: Quote) -> str:
    return reverse("quotes:detail", args=[quote.public_id])


@require_GET
@workspace_page
def quote_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), COUNT of the tab's quotes,
    # one page of quotes (+ client).
    tab = request.GET.get("status", "all")
    if tab not in TAB_KEYS:
        tab = "all"
    quotes = selectors.quote_list(
        workspace=_workspace(request), status=None if tab == "all" else tab
    )
    page = Paginator(quotes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "quotes/quote_list.html",
        {"nav": "quotes", "page": page, "tab": tab, "tabs": TABS},
    )


def _draft_form_page(request: HttpRequest, quote: Quote | None) -> HttpResponse:
    workspace = _workspace(request)
    form, formset = document_forms(request, QuoteForm, quote, workspace=workspace)

    def save() -> Quote:
        if quote is None:
            return services.quote_create_draft(
                workspace=workspace,
                user=_user(request),
                client=form.cleaned_data["client"],
                lines=formset.line_dicts(),
                **form.service_fields(),
            )
        return services.quote_update_draft(
            quote=quote, user=_user(request), lines=formset.line_dicts(), **form.service_fields()
        )

    return form_with_lines_page(
        request,
        form=form,
        formset=formset,
        save=save,
        success_url=_detail_url,
        success_message="Draft created." if quote is None else "Draft saved.",
        template="quotes/quote_form.html",
        context={"nav": "quotes", "quote": quote},
    )


@require_http_methods(["GET", "POST"])
@workspace_page
def quote_new(request: HttpRequest) -> HttpResponse:
    return _draft_form_page(request, None)


@require_http_methods(["GET", "POST"])
@workspace_page
def quote_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    quote = _quote(request, public_id)
    if not quote.is_draft:
        messages.error(request, services.SENT_CHANGE_MESSAGE)
        return redirect(_detail_url(quote))
    return _draft_form_page(request, quote)


@require_GET
@workspace_page
def quote_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), the quote (+ client,
    # converted invoice and project), its lines, its activity (+ actors).
    quote = _quote(request, public_id)
    return render(
        request,
        "quotes/quote_detail.html",
        {
            "nav": "quotes",
            "quote": quote,
            "send_form": SendForm(initial={"to_email": quote.client.email}),
            "convert_form": ConvertForm(),
            "portal_url": services.portal_url(quote),
        },
    )


# FileResponse is a streaming response, not the HttpResponse the decorators' hints name.
@require_GET  # type: ignore[arg-type]
@workspace_page  # type: ignore[arg-type]
def quote_pdf(request: HttpRequest, public_id: UUID) -> HttpResponse | FileResponse:
    """The PDF when the stored one is current; else have it rendered in the background
    (never here) and go back to the quote with a message to try again in a moment."""
    # Queries: session, user (+ timer), membership (+ workspace), the quote (+ client,
    # converted invoice and project), its lines, its activity (+ actors).
    quote = _quote(request, public_id)
    quote.workspace = _workspace(request)  # the same row: the PDF shows the seller
    if pdf.quote_pdf_request(quote=quote):
        messages.info(request, "The PDF is being prepared. Click “Download PDF” again in a moment.")
        return redirect(_detail_url(quote))
    try:
        file = quote.pdf_file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The PDF file is missing.") from error
    return FileResponse(
        file, filename=pdf.quote_pdf_filename(quote), content_type="application/pdf"
    )


@require_POST
@workspace_page
def quote_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    quote = _quote(request, public_id)
    try:
        services.quote_delete_draft(quote=quote, user=_user(request))
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
        return redirect(_detail_url(quote))
    messages.success(request, "Draft deleted.")
    return redirect(reverse("quotes:list"))


@require_POST
@workspace_page
def quote_send(request: HttpRequest, public_id: UUID) -> HttpResponse:
    quote = _quote(request, public_id)
    form = SendForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_detail_url(quote))
    try:
        services.quote_send(
            quote=quote, user=_user(request), to_email=form.cleaned_data["to_email"] or None
        )
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
    else:
        messages.success(request, f"Quote {quote.number} is on its way to {quote.sent_to}.")
    return redirect(_detail_url(quote))


@require_POST
@workspace_page
def quote_convert(request: HttpRequest, public_id: UUID) -> HttpResponse:
    quote = _quote(request, public_id)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, str(error))
        return redirect(_detail_url(quote))
    try:
        converted = services.quote_convert(
            quote=quote,
            user=_user(request),
            make_invoice=form.cleaned_data["invoice"],
            make_project=form.cleaned_data["project"],
        )
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
        return redirect(_detail_url(quote))
    if converted.converted_invoice is not None:
        messages.success(request, "Draft invoice created from the quote.")
        return redirect(reverse("invoicing:detail", args=[converted.converted_invoice.public_id]))
    messages.success(request, "Project created from the quote.")
    return redirect(_detail_url(quote))
