"""Funding payments count in the round trip open when they settled (PnL net of fees and funding)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from aegis.backtest import RoundTrips, build_round_trips
from aegis.model.enums import LiquidityRole, OrderSide, PositionSide
from aegis.model.events import Fill, FundingPayment

SYMBOL = "XRP/USDT:USDT"
OTHER = "BTC/USDT:USDT"
LAST = {SYMBOL: Decimal(120)}
SIZE = {SYMBOL: Decimal(1)}
MS = 1_000_000


def _fill(side: OrderSide, quantity: str, price: str, fee: str, ts_ms: int) -> Fill:
    return Fill(
        "c", SYMBOL, side, Decimal(price), Decimal(quantity), Decimal(fee), "USDT",
        LiquidityRole.TAKER, ts_ms * MS, "t",
    )  # fmt: skip


def _paid(amount: str, ts_ms: int, symbol: str = SYMBOL) -> FundingPayment:
    """A settled payment; ``amount`` is the account's cash flow (negative: it paid)."""
    return FundingPayment(symbol, Decimal("0.0001"), Decimal(100), Decimal(amount), ts_ms * MS)


# Binance stamps a funding a few ms after its time (00:00:00.017): it settles at the second
FILLS = [
    _fill(OrderSide.BUY, "2", "100", "0.2", 1_000),  # long 2 from 100
    _fill(OrderSide.SELL, "2", "110", "0.22", 4_000),  # long closed at 110
    _fill(OrderSide.SELL, "1", "110", "0.11", 6_000),  # short 1 from 110
    _fill(OrderSide.BUY, "1", "100", "0.1", 7_000),  # short closed at 100, same second as funding
    _fill(OrderSide.BUY, "1", "100", "0.1", 8_000),  # long 1 from 100, open at the end
]
FUNDING = [
    _paid("-0.5", 2_000 + 17),  # the long pays
    _paid("0.3", 3_000 + 14),  # the long receives
    _paid("-1", 5_000 + 17),  # flat: belongs to no round trip
    _paid("0.4", 7_000 + 5),  # the short receives; settles before the fill at 7 s
    _paid("-0.05", 9_000 + 17),  # the open long pays
    _paid("-7", 2_500, symbol=OTHER),  # another symbol, never traded
]


def test_each_payment_counts_in_the_round_trip_open_when_it_settled() -> None:
    long, short, still_open = build_round_trips(FILLS, LAST, SIZE, FUNDING)

    assert long.side is PositionSide.LONG
    assert long.funding == Decimal("-0.2")  # paid 0.5, received 0.3
    # trading 2 * (110 - 100) = 20, fees 0.42, funding -0.2
    assert long.pnl == Decimal("19.38")
    assert long.fees == Decimal("0.42")

    assert short.side is PositionSide.SHORT
    assert short.funding == Decimal("0.4")
    # trading 110 - 100 = 10, fees 0.21, funding +0.4
    assert short.pnl == Decimal("10.19")

    assert still_open.is_open
    assert still_open.funding == Decimal("-0.05")
    # marked at 120: 20, fee 0.1, funding -0.05
    assert still_open.pnl == Decimal("19.85")


def test_a_payment_while_flat_or_on_another_symbol_belongs_to_no_round_trip() -> None:
    trips = build_round_trips(FILLS, LAST, SIZE, FUNDING)
    in_trips = sum((trip.funding for trip in trips), Decimal(0))
    assert in_trips == Decimal("0.15")  # every payment but the flat one (-1) and OTHER's (-7)
    assert in_trips == sum((p.amount for p in FUNDING), Decimal(0)) - Decimal(-1) - Decimal(-7)


def test_payments_in_any_order_and_fills_as_an_iterator_give_the_same_trips() -> None:
    expected = build_round_trips(FILLS, LAST, SIZE, FUNDING)
    assert build_round_trips(iter(FILLS), LAST, SIZE, list(reversed(FUNDING))) == expected


def test_a_payment_at_a_flip_belongs_to_the_trip_the_flip_closes() -> None:
    fills = [
        _fill(OrderSide.BUY, "1", "100", "0.1", 1_000),
        _fill(OrderSide.SELL, "3", "90", "0.3", 2_000),  # closes the long, opens a short of 2
    ]
    closed, short = build_round_trips(fills, LAST, SIZE, [_paid("-0.25", 2_000 + 17)])
    assert closed.funding == Decimal("-0.25")
    assert closed.pnl == Decimal(-10) - Decimal("0.2") - Decimal("0.25")
    assert short.funding == 0
    assert short.pnl == Decimal(-60) - Decimal("0.2")


def test_without_funding_every_trip_has_zero_funding_and_the_same_pnl() -> None:
    plain = build_round_trips(FILLS, LAST, SIZE)
    funded = build_round_trips(FILLS, LAST, SIZE, FUNDING)
    assert [trip.funding for trip in plain] == [0, 0, 0]
    assert [trip.pnl for trip in plain] == [t.pnl - t.funding for t in funded]
    assert isinstance(plain[0].funding, Decimal)


def test_round_trips_counts_and_closed_pnls_include_funding_without_building_objects() -> None:
    trips = RoundTrips(FILLS, LAST, SIZE, FUNDING)
    assert (trips.total, trips.open_count) == (3, 1)
    assert trips.closed_pnls == [19.38, 10.19]
    assert trips._trips is None  # counted in one pass; nothing built yet
    assert list(trips) == build_round_trips(FILLS, LAST, SIZE, FUNDING)
    assert RoundTrips(FILLS, LAST, SIZE).closed_pnls == [19.58, 9.79]


_legs = st.lists(
    st.tuples(
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(1, 5),  # quantity
        st.integers(80, 120),  # price
    ),
    max_size=12,
)
_payments = st.lists(
    st.tuples(st.integers(0, 14_000), st.integers(-50, 50)),  # (ts_ms, amount in cents)
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(legs=_legs, payments=_payments)
def test_round_trips_add_up_to_the_cash_flows_fees_and_funding_while_not_flat(
    legs: list[tuple[OrderSide, int, int]], payments: list[tuple[int, int]]
) -> None:
    """Whatever the fills (flips, partial exits) and the payments, the round trips' PnL is the
    account's: trading cash flow, minus fees, plus the open position at the last close, plus
    every payment that settled while the position was not flat (computed independently)."""
    fills = [
        _fill(side, str(quantity), str(price), str(Decimal(quantity * price) / 1000), 1_000 * i)
        for i, (side, quantity, price) in enumerate(legs, start=1)
    ]
    funding = [_paid(str(Decimal(cents) / 100), ts_ms) for ts_ms, cents in payments]
    expected = Decimal(0)
    for fill in fills:
        signed = fill.quantity if fill.side is OrderSide.BUY else -fill.quantity
        expected -= signed * fill.price + fill.fee
    position = sum(
        (f.quantity if f.side is OrderSide.BUY else -f.quantity for f in fills), Decimal(0)
    )
    expected += position * LAST[SYMBOL]
    for payment in funding:
        settled_ms = payment.ts_ns // MS // 1_000 * 1_000  # floored to the second
        held = sum(
            (
                f.quantity if f.side is OrderSide.BUY else -f.quantity
                for f in fills
                if f.ts_ns // MS < settled_ms
            ),
            Decimal(0),
        )
        if held != 0:
            expected += payment.amount
    trips = build_round_trips(fills, LAST, SIZE, funding)
    assert abs(sum((trip.pnl for trip in trips), Decimal(0)) - expected) < Decimal("1e-12")
    closed = RoundTrips(fills, LAST, SIZE, funding).closed_pnls
    assert closed == [float(trip.pnl) for trip in trips if not trip.is_open]
