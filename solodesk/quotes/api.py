"""Quotes in the API (/api/v1/quotes): thin adapters over the quotes selectors and services.

The list leaves out lines and activity (one query per page, whatever the page size); the
detail and every action answer with the whole quote. `status` shows "expired" for a sent
quote past its valid-until day."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Body, Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

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
from solodesk.invoicing.api import Price, PricedLineIn, QuantityString
from solodesk.quotes import selectors, services
from solodesk.quotes.models import Quote, QuoteActivity, QuoteLine

router = Router(tags=["quotes"])

if TYPE_CHECKING:
    StatusFilter = str
    DiscountType = str
else:
    StatusFilter = Literal[tuple(Quote.DISPLAY_STATUSES)]
    DiscountType = Literal[tuple(Quote.DiscountType.values)]


# --- Schemas ------------------------------------------------------------------------------


class QuoteLineOut(Schema):
    id: UUID
    description: str
    quantity: QuantityString
    unit: str
    unit_price: DecimalString
    tax_rate: DecimalString
    total: DecimalString

    @staticmethod
    def resolve_id(line: QuoteLine) -> UUID:
        return line.public_id


class QuoteActivityOut(Schema):
    action: str
    message: str
    actor_email: str | None
    created_at: IsoDatetime

    @staticmethod
    def resolve_actor_email(activity: QuoteActivity) -> str | None:
        return activity.actor.email if activity.actor_id else None  # type: ignore[union-attr]


class QuoteSummaryOut(Schema):
    id: UUID
    number: str | None = Field(description="Null on drafts: numbers are given when sent.")
    status: str = Field(description="draft | sent | accepted | declined | expired")
    client_id: UUID
    client_name: str
    currency: str
    issue_date: dt.date | None
    valid_until: dt.date
    discount_type: str
    discount_value: DecimalString
    discount_amount: DecimalString
    notes: str
    subtotal: DecimalString
    tax_total: DecimalString
    total: DecimalString
    sent_at: IsoDatetime | None
    accepted_at: IsoDatetime | None
    accepted_by_name: str
    declined_at: IsoDatetime | None
    decline_reason: str
    portal_url: str | None = Field(description="The client's secret link; null until sent.")
    converted_invoice_id: UUID | None
    converted_project_id: UUID | None
    created_at: IsoDatetime

    @staticmethod
    def resolve_id(quote: Quote) -> UUID:
        return quote.public_id

    @staticmethod
    def resolve_status(quote: Quote) -> str:
        return quote.display_status

    @staticmethod
    def resolve_client_id(quote: Quote) -> UUID:
        return quote.client.public_id

    @staticmethod
    def resolve_client_name(quote: Quote) -> str:
        return quote.client.name

    @staticmethod
    def resolve_portal_url(quote: Quote) -> str | None:
        return services.portal_url(quote)

    @staticmethod
    def resolve_converted_invoice_id(quote: Quote) -> UUID | None:
        if quote.converted_invoice_id is None:
            return None
        return quote.converted_invoice.public_id  # type: ignore[union-attr]

    @staticmethod
    def resolve_converted_project_id(quote: Quote) -> UUID | None:
        if quote.converted_project_id is None:
            return None
        return quote.converted_project.public_id  # type: ignore[union-attr]


class QuoteOut(QuoteSummaryOut):
    lines: list[QuoteLineOut]
    activity: list[QuoteActivityOut]

    @staticmethod
    def resolve_lines(quote: Quote) -> list[QuoteLine]:
        return list(quote.lines.all())

    @staticmethod
    def resolve_activity(quote: Quote) -> list[QuoteActivity]:
        return list(quote.activities.all())


class QuoteLineIn(PricedLineIn):
    # Invoicing's line fields (a quote line has no project), under its own schema name.
    pass


class QuoteFilterIn(Schema):
    status: StatusFilter | None = Field(None, description="A status, or `expired`.")
    client_id: UUID | None = None


class QuoteIn(Schema):
    client_id: UUID
    lines: list[QuoteLineIn] = Field(default_factory=list, max_length=500)
    issue_date: dt.date | None = None
    valid_until: dt.date | None = Field(None, description="Default: 30 days from today.")
    discount_type: DiscountType = "none"
    discount_value: Price = Decimal("0")
    notes: str = ""


class QuotePatch(Schema):
    """Only the fields sent change; `lines`, when sent, replace all the lines."""

    lines: list[QuoteLineIn] = omittable(max_length=500)
    issue_date: dt.date | None = None
    valid_until: dt.date = omittable()
    discount_type: DiscountType = omittable()
    discount_value: Price = omittable()
    notes: str = omittable()


class QuoteSendIn(Schema):
    to_email: str | None = Field(None, description="Default: the client's e-mail address.")


class QuoteConvertIn(Schema):
    invoice: bool = Field(True, description="Make a draft invoice with the quote's lines.")
    project: bool = Field(False, description="Make an hourly project budgeted at the subtotal.")


# --- Helpers ------------------------------------------------------------------------------


def _quote(request: HttpRequest, quote_id: UUID) -> Quote:
    return selectors.quote_get(workspace=_workspace(request), public_id=quote_id)


def _target(request: HttpRequest, quote_id: UUID) -> Quote:
    """The quote an action works on, in one query; the service re-reads it under a lock."""
    return get_object_or_404(
        selectors.quote_list(workspace=_workspace(request)), public_id=quote_id
    )


def _client_for_body(workspace: Workspace, client_id: UUID) -> Client:
    return referenced(
        client_get,
        field="client_id",
        message="Client not found.",
        workspace=workspace,
        public_id=client_id,
    )


def _lines(lines: list[QuoteLineIn]) -> list[dict[str, Any]]:
    return [line.dict() for line in lines]


# --- Endpoints ----------------------------------------------------------------------------


@router.get("", response=list[QuoteSummaryOut], url_name="quote_list")
@paginate(CappedLimitOffsetPagination)
def list_quotes(request: HttpRequest, filters: Query[QuoteFilterIn]) -> QuerySet[Quote]:
    # Queries (bearer token): 1 token + user + workspace + timer, 2 COUNT, 3 the page of
    # quotes joined with client, converted invoice and converted project.
    quotes = selectors.quote_list(
        workspace=_workspace(request), status=filters.status, client_public_id=filters.client_id
    )
    return quotes.select_related("converted_invoice", "converted_project")


@router.post("", response={201: QuoteOut}, url_name="quote_create")
def create_quote(request: HttpRequest, payload: QuoteIn) -> Status[Quote]:
    workspace = _workspace(request)
    quote = services.quote_create_draft(
        workspace=workspace,
        user=_user(request),
        client=_client_for_body(workspace, payload.client_id),
        lines=_lines(payload.lines),
        issue_date=payload.issue_date,
        valid_until=payload.valid_until,
        discount_type=payload.discount_type,
        discount_value=payload.discount_value,
        notes=payload.notes,
    )
    return Status(201, _quote(request, quote.public_id))


@router.get("/{uuid:quote_id}", response=QuoteOut, url_name="quote_detail")
def get_quote(request: HttpRequest, quote_id: UUID) -> Quote:
    return _quote(request, quote_id)


@router.patch("/{uuid:quote_id}", response=QuoteOut)
def update_quote(request: HttpRequest, quote_id: UUID, payload: QuotePatch) -> Quote:
    quote = _target(request, quote_id)
    fields = payload.dict(exclude_unset=True)
    if "lines" in fields:
        fields["lines"] = _lines(payload.lines)
    services.quote_update_draft(quote=quote, user=_user(request), **fields)
    return _quote(request, quote_id)


@router.delete("/{uuid:quote_id}", response={204: None})
def delete_quote(request: HttpRequest, quote_id: UUID) -> Status[None]:
    services.quote_delete_draft(quote=_target(request, quote_id), user=_user(request))
    return Status(204, None)


@router.post("/{uuid:quote_id}/send", response=QuoteOut, url_name="quote_send")
def send_quote(
    request: HttpRequest, quote_id: UUID, payload: Body[QuoteSendIn | None] = None
) -> Quote:
    """Numbers the quote, makes its client link and queues one e-mail with the link."""
    services.quote_send(
        quote=_target(request, quote_id),
        user=_user(request),
        to_email=payload.to_email if payload else None,
    )
    return _quote(request, quote_id)


@router.post("/{uuid:quote_id}/convert", response=QuoteOut, url_name="quote_convert")
def convert_quote(
    request: HttpRequest, quote_id: UUID, payload: Body[QuoteConvertIn | None] = None
) -> Quote:
    choice = payload or QuoteConvertIn(invoice=True, project=False)
    services.quote_convert(
        quote=_target(request, quote_id),
        user=_user(request),
        make_invoice=choice.invoice,
        make_project=choice.project,
    )
    return _quote(request, quote_id)
