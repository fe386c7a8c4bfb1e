"""Money is a Decimal plus an ISO 4217 currency code, never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

# The currencies a freelancer is likely to bill in; the minor unit is the number of decimals.
CURRENCIES: dict[str, tuple[str, int]] = {
    "EUR": ("Euro", 2),
    "USD": ("US dollar", 2),
    "GBP": ("Pound sterling", 2),
    "CHF": ("Swiss franc", 2),
    "CAD": ("Canadian dollar", 2),
    "AUD": ("Australian dollar", 2),
    "NZD": ("New Zealand dollar", 2),
    "SEK": ("Swedish krona", 2),
    "NOK": ("Norwegian krone", 2),
    "DKK": ("Danish krone", 2),
    "PLN": ("Polish złoty", 2),
    "CZK": ("Czech koruna", 2),
    "HUF": ("Hungarian forint", 2),
    "RON": ("Romanian leu", 2),
    "BRL": ("Brazilian real", 2),
    "MXN": ("Mexican peso", 2),
    "INR": ("Indian rupee", 2),
    "SGD": ("Singapore dollar", 2),
    "HKD": ("Hong Kong dollar", 2),
    "ZAR": ("South African rand", 2),
    "JPY": ("Japanese yen", 0),
    "KRW": ("South Korean won", 0),
}
CURRENCY_CHOICES = [(code, f"{code} — {name}") for code, (name, _) in CURRENCIES.items()]

MAX_DIGITS = 14
DECIMAL_PLACES = 2


class MoneyField(models.DecimalField):
    """An amount with two decimals; the currency is stored beside it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    places = CURRENCIES.get(currency, ("", 2))[1]
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def whole_cents(amount: Decimal) -> int | None:
    """`amount` × 100 as an int when that is a whole number (a stored amount or rate always
    is: two decimals), else None. For sums in integers where Decimal arithmetic per row
    costs: a caller adds cents and makes one Decimal of the total."""
    cents = amount * 100
    return int(cents) if cents == cents.to_integral_value() else None
