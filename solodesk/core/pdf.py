"""What every PDF document (invoice, credit note, quote) shares: WeasyPrint rendering that
reaches for nothing outside the template, "Page N of M" only when there is more than one
page, a digest of what a document shows, and the small labels its lines print.

Domain-free: each document module builds its own context (its *_pdf_content) and template
(extending documents/pdf_base.html) and calls these.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from django.template.loader import render_to_string

_UNIT_NAMES = {"hours": ("hour", "hours"), "days": ("day", "days"), "pieces": ("piece", "pieces")}


def rate_label(value: Decimal) -> str:
    """21.00 → "21", 5.50 → "5.5": tax rates and percentages as people write them."""
    text = f"{Decimal(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def unit_label(unit: str, quantity: Decimal) -> str:
    """ "hours" → "hour" for a quantity of one."""
    singular, plural = _UNIT_NAMES.get(unit, (unit, unit))
    return singular if quantity == 1 else plural


class _PrintedLine(Protocol):
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: Decimal
    total: Decimal


class _PrintedTaxGroup(Protocol):
    # Read-only: calculation.TaxGroup is a frozen dataclass.
    @property
    def rate(self) -> Decimal: ...
    @property
    def base(self) -> Decimal: ...
    @property
    def tax(self) -> Decimal: ...


class _PricedDocument(Protocol):
    subtotal: Decimal
    discount_type: str
    discount_value: Decimal
    discount_amount: Decimal
    tax_total: Decimal
    total: Decimal


def document_figures_content(
    document: _PricedDocument,
    lines: Iterable[_PrintedLine],
    tax_groups: Sequence[_PrintedTaxGroup],
) -> dict[str, Any]:
    """The part of a document's PDF context every priced document shares: its lines, the
    discount and the tax per rate, and the totals (stored figures; `tax_groups` from
    `document_totals`)."""
    return {
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit": unit_label(line.unit, line.quantity),
                "unit_price": line.unit_price,
                "tax_rate": rate_label(line.tax_rate),
                "total": line.total,
            }
            for line in lines
        ],
        "subtotal": document.subtotal,
        "discount_label": (
            f"Discount ({rate_label(document.discount_value)}%)"
            if document.discount_type == "percent"
            else "Discount"
        ),
        "discount_amount": document.discount_amount,
        "tax_groups": [
            {"rate": rate_label(group.rate), "base": group.base, "tax": group.tax}
            for group in tax_groups
        ],
        "tax_total": document.tax_total,
        "total": document.total,
    }


def content_digest(content: dict[str, Any]) -> str:
    """A digest (64 hex characters) of a document's PDF context: equal digests, identical
    PDFs. Documents store it beside their file to tell whether the file is still current."""
    payload = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def document_filename(number: str | None, *, fallback: str) -> str:
    """The name people see: "2026-0007.pdf"; `fallback` (e.g. "draft-<uuid>") when unnumbered."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", number or "").strip("-.")
    return f"{stem or fallback}.pdf"


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    # Templates are self-contained (inline CSS, system fonts): nothing in a document may make
    # the renderer reach the network or the file system.
    raise ValueError(f"Documents load no external resources ({url[:60]}).")


def _write_pdf(html: str) -> tuple[bytes, int]:
    from weasyprint import HTML

    document = HTML(string=html, url_fetcher=_refuse_fetch).render()
    return document.write_pdf(), len(document.pages)


def pdf_render(template_name: str, context: dict[str, Any]) -> bytes:
    """The PDF's bytes. CPU-bound (≈ 0.1–0.5 s): call it from a worker, never a request.

    Page numbers ("Page 2 of 3") only make sense on multi-page documents and CSS cannot tell
    how many pages there will be, so a document that turns out longer than one page is laid
    out a second time with the page-number margin boxes switched on."""
    pdf, pages = _write_pdf(render_to_string(template_name, {**context, "multipage": False}))
    if pages > 1:
        pdf, _pages = _write_pdf(render_to_string(template_name, {**context, "multipage": True}))
    return pdf
