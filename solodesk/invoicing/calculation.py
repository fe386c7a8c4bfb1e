"""Invoice arithmetic, in Decimal only.

- Each line total is quantity × unit price, rounded half-up to the currency's minor unit.
- The subtotal is the sum of the line totals.
- The discount (a percentage of the subtotal, or an amount) is rounded once and never
  exceeds the subtotal.
- Tax is computed per tax-rate group on the group's share of the discounted subtotal, and
  rounded once per group. The discount is shared between groups in proportion to their
  subtotals, by the largest remainder method, so the shares add up to the discount exactly
  and no share exceeds its group's subtotal (no negative tax base).
- total = subtotal − discount + Σ tax.

These are pure functions: the same inputs always give the same figures, which is what lets
an issued invoice be re-computed and compared with what was stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Protocol

from solodesk.core.money import CURRENCIES, quantize

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal


@dataclass(frozen=True)
class TaxGroup:
    rate: Decimal
    base: Decimal  # the group's subtotal after its share of the discount
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    line_totals: tuple[Decimal, ...]
    subtotal: Decimal
    discount_amount: Decimal
    tax_groups: tuple[TaxGroup, ...]
    tax_total: Decimal
    total: Decimal


def line_total(*, quantity: Decimal, unit_price: Decimal, currency: str) -> Decimal:
    return quantize(Decimal(quantity) * Decimal(unit_price), currency)


def discount_amount(
    *, subtotal: Decimal, discount_type: str, discount_value: Decimal, currency: str
) -> Decimal:
    if discount_type == "percent":
        percent = min(max(Decimal(discount_value), ZERO), HUNDRED)
        amount = quantize(subtotal * percent / HUNDRED, currency)
    elif discount_type == "amount":
        amount = quantize(max(Decimal(discount_value), ZERO), currency)
    else:
        amount = quantize(ZERO, currency)
    return min(amount, subtotal)


def _share_discount(
    group_subtotals: Sequence[tuple[Decimal, Decimal]],
    discount: Decimal,
    subtotal: Decimal,
    currency: str,
) -> list[Decimal]:
    if not group_subtotals:
        return []
    if subtotal == 0 or discount == 0:
        return [quantize(ZERO, currency) for _ in group_subtotals]
    # Largest remainder: every share is first rounded down, then the cents still missing go
    # one each to the groups with the largest rounding remainders (ties: the larger group,
    # then the first). A share then never exceeds its group, so no tax base is negative.
    unit = Decimal(1).scaleb(-CURRENCIES.get(currency, ("", 2))[1])
    exact = [discount * group / subtotal for _rate, group in group_subtotals]
    shares = [share.quantize(unit, rounding=ROUND_DOWN) for share in exact]
    missing = int((discount - sum(shares, ZERO)) / unit)
    order = sorted(
        range(len(shares)),
        key=lambda i: (exact[i] - shares[i], group_subtotals[i][1], -i),
        reverse=True,
    )
    for i in order[:missing]:
        shares[i] += unit
    return shares


def compute_totals(
    *,
    lines: Iterable[LineInput],
    currency: str,
    discount_type: str = "none",
    discount_value: Decimal = ZERO,
) -> Totals:
    line_inputs = list(lines)
    totals = tuple(
        line_total(quantity=line.quantity, unit_price=line.unit_price, currency=currency)
        for line in line_inputs
    )
    subtotal = quantize(sum(totals, ZERO), currency)
    discount = discount_amount(
        subtotal=subtotal,
        discount_type=discount_type,
        discount_value=discount_value,
        currency=currency,
    )
    by_rate: dict[Decimal, Decimal] = {}
    for line, total in zip(line_inputs, totals, strict=True):
        rate = Decimal(line.tax_rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        by_rate[rate] = by_rate.get(rate, ZERO) + total
    groups_in = sorted(by_rate.items())
    shares = _share_discount(groups_in, discount, subtotal, currency)
    groups = []
    for (rate, group_subtotal), share in zip(groups_in, shares, strict=True):
        base = group_subtotal - share
        groups.append(TaxGroup(rate=rate, base=base, tax=quantize(base * rate / HUNDRED, currency)))
    tax_total = sum((g.tax for g in groups), quantize(ZERO, currency))
    return Totals(
        line_totals=totals,
        subtotal=subtotal,
        discount_amount=discount,
        tax_groups=tuple(groups),
        tax_total=tax_total,
        total=subtotal - discount + tax_total,
    )


class PricedLine(Protocol):
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal


class PricedDocument(Protocol):
    currency: str
    discount_type: str
    discount_value: Decimal


def document_totals(document: PricedDocument, lines: Iterable[PricedLine]) -> Totals:
    """The totals of an invoice, credit note or quote from its line rows (saved or not):
    the one place that turns stored documents into calculation input."""
    return compute_totals(
        lines=[
            LineInput(quantity=line.quantity, unit_price=line.unit_price, tax_rate=line.tax_rate)
            for line in lines
        ],
        currency=document.currency,
        discount_type=document.discount_type,
        discount_value=document.discount_value,
    )
