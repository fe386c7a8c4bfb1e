"""The dashboard's unbilled amount in integers: the same number as the Decimal arithmetic of
"invoice from time" (hours half-up to 0.001 h × the rate, half-up to the currency's minor
unit), and the Decimal way kept for a rate that is not a whole number of cents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from solodesk.accounts.models import TimeRounding, Workspace
from solodesk.core.money import quantize, whole_cents
from solodesk.dashboard.selectors import _amount_in_minor_units, dashboard_unbilled
from solodesk.invoicing.services import hours_from_seconds
from solodesk.projects.models import Project
from solodesk.prompts.rules.families import UnbilledProject


@given(
    seconds=st.integers(min_value=0, max_value=10_000 * 3600),
    rate=st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2),
    currency=st.sampled_from(["EUR", "JPY", "XXX"]),  # 2, 0 and an unknown code (2)
)
def test_the_amount_in_minor_units_is_the_decimal_amount(seconds, rate, currency):
    expected = quantize(hours_from_seconds(seconds) * rate, currency)
    places = 0 if currency == "JPY" else 2
    cents = whole_cents(rate)
    assert cents is not None

    minor = _amount_in_minor_units(seconds, cents, places)

    assert Decimal(minor).scaleb(-places) == expected


def test_whole_cents():
    assert whole_cents(Decimal("95.00")) == 9500
    assert whole_cents(Decimal("95.5")) == 9550
    assert whole_cents(Decimal("0")) == 0
    assert whole_cents(Decimal("95.125")) is None


def _row(project_id: int, *, seconds: int, rate: Decimal | None, currency: str) -> UnbilledProject:
    return UnbilledProject(
        project_id=project_id,
        client_id=1,
        billing_method=Project.BillingMethod.HOURLY,
        hourly_rate=rate,
        time_rounding_mode="",
        time_rounding_minutes=None,
        time_rounding_scope="",
        client_public_id=uuid4(),
        client_name="Acme",
        client_email="a@example.com",
        client_terms=30,
        client_currency=currency,
        client_rate=None,
        client_archived=False,
        entries=1,
        seconds=seconds,
        up_seconds=seconds,
        nearest_seconds=seconds,
        first_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    )


def test_a_rate_that_is_not_whole_cents_is_priced_with_decimals():
    workspace = Workspace(
        time_rounding_mode=TimeRounding.NONE,
        time_rounding_minutes=1,
        time_rounding_scope=TimeRounding.PER_ENTRY,
    )
    rows = [
        _row(1, seconds=3601, rate=Decimal("80.00"), currency="EUR"),  # 1.000 h → 80.00
        _row(2, seconds=1800, rate=Decimal("33.333"), currency="EUR"),  # 0.5 h → 16.6665 → 16.67
        _row(3, seconds=5400, rate=Decimal("1000.00"), currency="JPY"),  # 1.5 h → 1500
        _row(4, seconds=900, rate=None, currency="JPY"),  # no rate: not priced
    ]

    [eur, jpy] = dashboard_unbilled(workspace=workspace, projects=rows)

    assert (eur.currency, str(eur.amount), eur.seconds, eur.unpriced_seconds) == (
        "EUR",
        "96.67",
        5401,
        0,
    )
    assert (jpy.currency, str(jpy.amount), jpy.seconds, jpy.unpriced_seconds) == (
        "JPY",
        "1500",
        6300,
        900,
    )


def test_no_priced_time_is_a_zero_in_the_currency():
    workspace = Workspace(
        time_rounding_mode=TimeRounding.NONE,
        time_rounding_minutes=1,
        time_rounding_scope=TimeRounding.PER_ENTRY,
    )

    [eur] = dashboard_unbilled(
        workspace=workspace, projects=[_row(1, seconds=60, rate=None, currency="EUR")]
    )

    assert str(eur.amount) == "0.00"
    assert eur.unpriced_seconds == 60
