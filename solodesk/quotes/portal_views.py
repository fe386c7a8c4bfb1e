"""The client's side of a quote: behind the secret link, no login and no workspace. The
client reads the quote and accepts it (typing their name as a signature) or declines it,
once, while it is open. A wrong token or a draft is a plain 404; pages are never cached and
never send a Referer, so the token does not leak onwards."""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from solodesk.accounts.models import User
from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing.calculation import document_totals
from solodesk.quotes import pdf, selectors, services
from solodesk.quotes.forms import AcceptForm, DeclineForm
from solodesk.quotes.models import Quote

# The "PDF is being prepared" page reloads itself every 2 s, for about a minute at most.
PDF_PENDING_MAX_ATTEMPTS = 30

_Response = TypeVar("_Response", bound=HttpResponseBase)


def _private(response: _Response) -> _Response:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(
    request: HttpRequest,
    quote: Quote,
    token: str,
    *,
    accept_form: AcceptForm | None = None,
    decline_form: DeclineForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    lines = list(quote.lines.all())
    totals = document_totals(quote, lines)
    today = timezone.localdate(timezone=quote.workspace.tzinfo)
    is_expired = quote.is_expired_on(today)
    context: dict[str, Any] = {
        "quote": quote,
        "lines": lines,
        "token": token,
        "seller": quote.workspace,
        "buyer": quote.client,
        "tax_groups": totals.tax_groups,
        "is_expired": is_expired,
        "is_open": quote.status == Quote.Status.SENT and not is_expired,
        "accept_form": accept_form or AcceptForm(),
        "decline_form": decline_form or DeclineForm(),
        "error": error,
    }
    return _private(render(request, "quotes/portal/quote.html", context, status=status))


def _visitor_is_member(request: HttpRequest, quote: Quote) -> bool:
    # Free for the client (no session cookie, so no query); the logged-in freelancer who
    # opens their own link costs their session, user and one membership query.
    user = request.user
    if not user.is_authenticated:
        return False
    assert isinstance(user, User)
    return selectors.quote_portal_visitor_is_member(quote=quote, user=user)


@require_GET
@never_cache
def quote_portal(request: HttpRequest, token: str) -> HttpResponse:
    # Queries for the client: 1 the quote by its token (+ workspace, client), 2 its lines;
    # the very first visit adds 3 the conditional UPDATE of viewed_at and 4 the "viewed"
    # activity row.
    quote = selectors.quote_get_for_portal(token=token)
    if quote.viewed_at is None and not _visitor_is_member(request, quote):
        services.quote_view_record(quote=quote)
    return _page(request, quote, token)


# FileResponse is a streaming response, not the HttpResponse the decorators' hints name.
@require_GET  # type: ignore[arg-type]
@never_cache
def quote_portal_pdf(request: HttpRequest, token: str) -> HttpResponse | FileResponse:
    """The current PDF; if it is not rendered yet (or the quote changed since), a page that
    has it rendered in the background and reloads itself until the file is there."""
    # Queries: 1 the quote by its token (+ workspace, client), 2 its lines (what the PDF
    # shows decides whether the stored file is current). Never renders here.
    quote = selectors.quote_get_for_portal(token=token)
    if not pdf.quote_pdf_request(quote=quote):
        try:
            file = quote.pdf_file.open("rb")
        except FileNotFoundError as error:
            raise Http404("The PDF is not available.") from error
        return _private(
            FileResponse(
                file, filename=pdf.quote_pdf_filename(quote), content_type="application/pdf"
            )
        )
    try:
        attempt = int(request.GET.get("attempt", "0"))
    except ValueError:
        attempt = 0
    url = reverse("quote_portal:pdf", args=[token])
    response = render(
        request,
        "quotes/portal/pdf_pending.html",
        {
            "token": token,
            "label": f"Quote {quote.number}",
            "keep_polling": attempt < PDF_PENDING_MAX_ATTEMPTS,
            "retry_url": f"{url}?attempt={attempt + 1}",
        },
        status=202,
    )
    return _private(response)


@require_POST
@never_cache
def quote_portal_accept(request: HttpRequest, token: str) -> HttpResponse:
    quote = selectors.quote_get_for_portal(token=token)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        return _page(request, quote, token, accept_form=form, status=400)
    try:
        services.quote_accept(token=token, name=form.cleaned_data["name"])
    except ApplicationError as error:
        return _page(request, quote, token, error=error.message, status=400)
    return redirect("quote_portal:quote", token=token)


@require_POST
@never_cache
def quote_portal_decline(request: HttpRequest, token: str) -> HttpResponse:
    quote = selectors.quote_get_for_portal(token=token)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _page(request, quote, token, decline_form=form, status=400)
    try:
        services.quote_decline(token=token, reason=form.cleaned_data["reason"])
    except ApplicationError as error:
        return _page(request, quote, token, error=error.message, status=400)
    return redirect("quote_portal:quote", token=token)
