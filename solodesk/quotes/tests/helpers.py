"""Quotes for tests, made through the services so totals, numbers and activity are real."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.quotes import services
from solodesk.quotes.models import Quote
from solodesk.tests.factories import ClientFactory


def line(
    description: str = "Website redesign",
    quantity: str = "10",
    unit_price: str = "100.00",
    tax_rate: str = "21",
    unit: str = "hours",
) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": Decimal(quantity),
        "unit": unit,
        "unit_price": Decimal(unit_price),
        "tax_rate": Decimal(tax_rate),
    }


def make_quote(
    *,
    workspace: Workspace,
    user: User,
    client: Client | None = None,
    lines: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Quote:
    return services.quote_create_draft(
        workspace=workspace,
        user=user,
        client=client or ClientFactory(workspace=workspace),
        lines=[line()] if lines is None else lines,
        **kwargs,
    )


def make_sent_quote(*, workspace: Workspace, user: User, **kwargs: Any) -> Quote:
    quote = make_quote(workspace=workspace, user=user, **kwargs)
    return services.quote_send(quote=quote, user=user)
