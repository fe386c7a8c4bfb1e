"""Invoice arithmetic: exact examples computed by hand, and properties that must hold for
any lines, rates, discounts and currency."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from solodesk.core.money import CURRENCIES
from solodesk.invoicing.calculation import LineInput, TaxGroup, compute_totals

D = Decimal


def test_three_rates_with_a_ten_percent_discount_computed_by_hand():
    totals = compute_totals(
        lines=[
            LineInput(quantity=D("2.5"), unit_price=D("80.00"), tax_rate=D("19")),  # 200.00
            LineInput(quantity=D("3"), unit_price=D("33.33"), tax_rate=D("7")),  # 99.99
            LineInput(quantity=D("1"), unit_price=D("50.00"), tax_rate=D("0")),  # 50.00
        ],
        currency="EUR",
        discount_type="percent",
        discount_value=D("10"),
    )
    assert totals.line_totals == (D("200.00"), D("99.99"), D("50.00"))
    assert totals.subtotal == D("349.99")
    # 10 % of 349.99 = 34.999 → 35.00 (half-up, rounded once).
    assert totals.discount_amount == D("35.00")
    # Shares of the discount: 0 %: 35 × 50/349.99 = 5.0001 → 5.00; 7 %: 35 × 99.99/349.99
    # = 9.9991 → 10.00; 19 %: 35 × 200/349.99 = 20.0006 → 20.00; they add up to 35.00.
    assert totals.tax_groups == (
        TaxGroup(rate=D("0.00"), base=D("45.00"), tax=D("0.00")),
        TaxGroup(rate=D("7.00"), base=D("89.99"), tax=D("6.30")),  # 6.2993
        TaxGroup(rate=D("19.00"), base=D("180.00"), tax=D("34.20")),
    )
    assert totals.tax_total == D("40.50")
    assert totals.total == D("355.49")  # 349.99 − 35.00 + 40.50


def test_the_discount_rounding_remainder_goes_to_the_largest_group():
    totals = compute_totals(
        lines=[
            LineInput(quantity=D("1"), unit_price=D("10.00"), tax_rate=D("0")),
            LineInput(quantity=D("1"), unit_price=D("10.00"), tax_rate=D("7")),
            LineInput(quantity=D("1"), unit_price=D("10.00"), tax_rate=D("19")),
        ],
        currency="EUR",
        discount_type="amount",
        discount_value=D("0.10"),
    )
    # Each share is 0.0333 → 0.03; the missing cent goes to the largest group (a tie: the
    # first one, 0 %).
    assert [group.base for group in totals.tax_groups] == [D("9.96"), D("9.97"), D("9.97")]
    assert [group.tax for group in totals.tax_groups] == [D("0.00"), D("0.70"), D("1.89")]
    assert totals.total == D("32.49")  # 30.00 − 0.10 + 2.59


# Found by a search over random invoices: with the whole remainder put on the largest group,
# a discount within cents of the subtotal gave the 19 % group a base of −0.01 (tax −0.00).
NEAR_FULL_DISCOUNT_LINES = [
    (D("25.39"), D("7")),
    (D("18.65"), D("20")),
    (D("28.54"), D("19")),
    (D("19.26"), D("5")),
    (D("18.93"), D("21")),
    (D("23.11"), D("0")),
    (D("15.14"), D("10")),
]


def test_a_discount_close_to_the_subtotal_leaves_no_group_with_a_negative_base():
    totals = compute_totals(
        lines=[
            LineInput(quantity=D("1"), unit_price=price, tax_rate=rate)
            for price, rate in NEAR_FULL_DISCOUNT_LINES
        ],
        currency="EUR",
        discount_type="amount",
        discount_value=D("148.98"),  # the subtotal is 149.02
    )
    assert totals.subtotal == D("149.02")
    # Each group's exact share is g × 148.98/149.02; rounded down they leave 3 cents, which go
    # to the largest remainders: 10 % (15.135936), 20 % (18.644994), 21 % (18.924919).
    assert [group.base for group in totals.tax_groups] == [
        D("0.01"),  # 0 %: 23.11 − 23.10
        D("0.01"),  # 5 %: 19.26 − 19.25
        D("0.01"),  # 7 %: 25.39 − 25.38
        D("0.00"),  # 10 %: 15.14 − 15.14
        D("0.01"),  # 19 %: 28.54 − 28.53
        D("0.00"),  # 20 %: 18.65 − 18.65
        D("0.00"),  # 21 %: 18.93 − 18.93
    ]
    assert all(str(group.tax) == "0.00" for group in totals.tax_groups)
    assert totals.total == D("0.04")


def test_line_totals_round_half_up_to_the_cent():
    totals = compute_totals(
        lines=[
            LineInput(quantity=D("0.125"), unit_price=D("10.00"), tax_rate=D("0")),  # 1.25
            LineInput(quantity=D("0.333"), unit_price=D("15.00"), tax_rate=D("0")),  # 4.995
        ],
        currency="EUR",
    )
    assert totals.line_totals == (D("1.25"), D("5.00"))
    assert totals.total == D("6.25")


def test_yen_amounts_have_no_decimals():
    totals = compute_totals(
        lines=[LineInput(quantity=D("1.5"), unit_price=D("1001"), tax_rate=D("10"))],
        currency="JPY",
    )
    assert totals.line_totals == (D("1502"),)  # 1501.5 half-up
    assert totals.tax_total == D("150")  # 150.2
    assert totals.total == D("1652")


def test_an_amount_discount_never_exceeds_the_subtotal():
    totals = compute_totals(
        lines=[LineInput(quantity=D("1"), unit_price=D("40.00"), tax_rate=D("21"))],
        currency="EUR",
        discount_type="amount",
        discount_value=D("100.00"),
    )
    assert totals.discount_amount == D("40.00")
    assert totals.tax_total == D("0.00")
    assert totals.total == D("0.00")


def test_no_lines_give_zero_totals():
    totals = compute_totals(lines=[], currency="EUR", discount_type="percent", discount_value=D(5))
    assert (totals.subtotal, totals.discount_amount, totals.tax_total, totals.total) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert totals.tax_groups == ()


# --- properties ------------------------------------------------------------------------------

quantities = st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False)
prices = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
# Common VAT rates plus arbitrary ones, so invoices with many tax groups occur.
rates = st.one_of(
    st.sampled_from([D("0"), D("5.5"), D("7"), D("10"), D("19"), D("20"), D("21"), D("25")]),
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False),
)
line_inputs = st.builds(LineInput, quantity=quantities, unit_price=prices, tax_rate=rates)
discounts = st.one_of(
    st.tuples(st.just("none"), st.just(D("0"))),
    st.tuples(
        st.just("percent"), st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)
    ),
    st.tuples(
        st.just("amount"), st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
    ),
)
currencies = st.sampled_from(["EUR", "USD", "JPY"])


def _places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(line_inputs, max_size=12), discount=discounts, currency=currencies)
@example(
    lines=[LineInput(D("1"), price, rate) for price, rate in NEAR_FULL_DISCOUNT_LINES],
    discount=("amount", D("148.98")),
    currency="EUR",
)
def test_totals_add_up_to_the_cent_and_are_never_negative(lines, discount, currency):
    discount_type, discount_value = discount
    totals = compute_totals(
        lines=lines, currency=currency, discount_type=discount_type, discount_value=discount_value
    )
    decimals = CURRENCIES[currency][1]

    # Each line total has at most the currency's decimals and is quantity × price rounded.
    for line_input, total in zip(lines, totals.line_totals, strict=True):
        assert _places(total) <= decimals
        assert abs(total - line_input.quantity * line_input.unit_price) <= D(5).scaleb(
            -decimals - 1
        )
    assert totals.subtotal == sum(totals.line_totals, D(0))

    # No negative totals; the discount never exceeds the subtotal.
    assert totals.subtotal >= 0
    assert 0 <= totals.discount_amount <= totals.subtotal
    assert totals.tax_total >= 0
    assert totals.total >= 0

    # The groups' bases share the discount exactly, tax is the sum of the groups' tax, and
    # the total is the sum of its parts — to the cent, with no rounding left over.
    assert sum((group.base for group in totals.tax_groups), D(0)) == (
        totals.subtotal - totals.discount_amount
    )
    assert totals.tax_total == sum((group.tax for group in totals.tax_groups), D(0))
    assert totals.total == totals.subtotal - totals.discount_amount + totals.tax_total
    for group in totals.tax_groups:
        assert group.base >= 0
        assert group.tax >= 0
        assert not group.tax.is_signed()  # no "-0.00"
        assert _places(group.tax) <= decimals
    assert _places(totals.total) <= decimals

    # One group per distinct rate.
    assert len({group.rate for group in totals.tax_groups}) == len(totals.tax_groups)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(line_inputs, min_size=1, max_size=8), currency=currencies)
def test_the_same_inputs_always_give_the_same_figures(lines, currency):
    first = compute_totals(
        lines=lines, currency=currency, discount_type="percent", discount_value=D(3)
    )
    again = compute_totals(
        lines=list(reversed(lines)),
        currency=currency,
        discount_type="percent",
        discount_value=D(3),
    )
    assert first.subtotal == again.subtotal
    assert first.tax_groups == again.tax_groups
    assert first.total == again.total
