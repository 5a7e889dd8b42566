"""Paper funding: the published rate settles on the simulated position, as the sim does (OR3)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from aegis.engine.paper_funding import FundedPaperVenue, PaperFundingSource, paper_payment_id
from aegis.model.candle import Candle
from aegis.model.instrument import Instrument
from aegis.venues.base import VenueFundingRate
from aegis.venues.sim import FillModel

PERP, SPOT = "XRP/USDT:USDT", "XRP/USDT"
T = 1_637_193_600_000  # a funding time (on the 5m grid)
FIVE_MIN = 300_000


class RatesOnly:
    """Market data for the paper venue: instruments and the published funding rate."""

    name = "rates"

    def __init__(self, rate: str) -> None:
        self.rate = Decimal(rate)
        self.calls = 0

    async def connect(self) -> None:
        return None

    def instruments(self) -> Mapping[str, Instrument]:
        return {PERP: Instrument.permissive(PERP), SPOT: Instrument.permissive(SPOT)}

    async def fetch_funding_payments(self, symbol: str, since_ms: int | None = None) -> list[Any]:
        return []

    async def fetch_funding_rate(self, symbol: str) -> VenueFundingRate:
        self.calls += 1
        return VenueFundingRate(symbol=symbol, rate=self.rate, next_funding_ms=T + 8 * 3_600_000)


def candle(ts_ms: int, close: float) -> Candle:
    return Candle(ts_ms, close, close, close, close, 1000.0)


async def paper(rate: str = "0.0001") -> tuple[FundedPaperVenue, PaperFundingSource]:
    rates: Any = RatesOnly(rate)  # Any: a partial Venue (the paper venue uses these only)
    venue = FundedPaperVenue(rates, FillModel(), {"USDT": Decimal(1000)})
    await venue.connect()
    return venue, PaperFundingSource(venue, rates)


async def test_a_held_long_pays_rate_times_position_times_last_close() -> None:
    venue, source = await paper()
    venue.sim.set_position(PERP, Decimal(100))
    source.scheduled(PERP, T)
    venue.on_candle(PERP, candle(T - FIVE_MIN, 1.25))
    assert venue.crossed(PERP) == []  # the candle before the funding time
    venue.on_candle(PERP, candle(T, 1.5))
    assert venue.crossed(PERP) == [T]
    (booked,) = await source.collect(PERP, None)
    assert booked.payment_id == paper_payment_id(PERP, T)
    # the mark is the last close before the funding time, not the candle at it
    assert booked.payment.amount == Decimal("-0.0125")
    assert booked.payment.ts_ns == T * 1_000_000
    assert (await venue.fetch_balances())["USDT"] == Decimal("999.9875")
    assert await source.collect(PERP, None) == []  # settled once


async def test_a_short_receives_a_positive_rate_and_a_flat_account_nothing() -> None:
    venue, source = await paper("0.0002")
    venue.sim.set_position(PERP, Decimal(-10))
    source.scheduled(PERP, T)
    venue.on_candle(PERP, candle(T - FIVE_MIN, 2.0))
    venue.on_candle(PERP, candle(T, 2.0))
    (booked,) = await source.collect(PERP, None)
    assert booked.payment.amount == Decimal("0.0040")
    venue.sim.set_position(PERP, Decimal(0))
    source.scheduled(PERP, T + 8 * 3_600_000)
    venue.on_candle(PERP, candle(T + 8 * 3_600_000, 2.0))
    assert await source.collect(PERP, None) == []


async def test_spot_symbols_never_settle_funding() -> None:
    venue, source = await paper()
    source.scheduled(SPOT, T)
    venue.on_candle(SPOT, candle(T, 1.0))
    assert venue.crossed(SPOT) == []


async def test_settling_a_time_never_crossed_names_it() -> None:
    venue, _ = await paper()
    with pytest.raises(KeyError, match=f"funding of {PERP} at {T}"):
        venue.settle(PERP, T, Decimal("0.0001"))
