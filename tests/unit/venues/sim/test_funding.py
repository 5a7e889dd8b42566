"""Funding payments for linear perpetuals on the real Binance XRP funding file."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from aegis.data import read_candles, read_funding
from aegis.model.enums import MarketKind, OrderSide
from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument
from aegis.venues.sim import FillModel, SimulatedExchange

from .sim_helpers import make_instrument, make_order

CANDLES = "binance-usdm_XRP-USDT-PERP_8h.csv.gz"
FUNDING = "binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz"


@pytest.fixture
def xrp(real_markets_dir: Path) -> Instrument:
    entries = json.loads((real_markets_dir / "binance-usdm.json").read_text())["symbols"]
    return Instrument.from_binance(next(e for e in entries if e["symbol"] == "XRPUSDT"))


def run_with_position(
    xrp: Instrument, real_data_dir: Path, side: OrderSide
) -> tuple[SimulatedExchange, list[Decimal]]:
    candles = read_candles(real_data_dir / CANDLES)
    funding = read_funding(real_data_dir / FUNDING)
    assert xrp.kind is MarketKind.LINEAR_PERPETUAL
    exchange = SimulatedExchange({xrp.symbol: xrp}, FillModel(), funding={xrp.symbol: funding})
    closes: list[Decimal] = []
    for i in range(len(candles)):
        row = candles.row(i)
        if i == 1:
            exchange.submit(make_order(side, quantity="1000", symbol=xrp.symbol), row.ts_ms * 10**6)
        exchange.on_candle(
            xrp.symbol, row.ts_ms, row.open, row.high, row.low, row.close, row.volume
        )
        closes.append(Decimal(repr(row.close)))
    return exchange, closes


def test_long_pays_positive_funding_and_receives_negative(
    xrp: Instrument, real_data_dir: Path
) -> None:
    exchange, closes = run_with_position(xrp, real_data_dir, OrderSide.BUY)
    payments = exchange.drain_funding()
    funding = read_funding(real_data_dir / FUNDING)
    # Submitted just before candle 1, the order fills at candle 1's open; the funding at that
    # same time settles first, on the position held then (none), as did the one at candle 0.
    assert len(payments) == len(funding) - 2
    for offset, payment in enumerate(payments):
        index = offset + 2
        assert payment.ts_ns == int(funding.ts_ms[index]) * 1_000_000
        assert payment.rate == Decimal(repr(float(funding.rate[index])))
        # The mark is the last close before the funding time: the previous 8 h candle's close.
        assert payment.mark_price == closes[index - 1]
        assert payment.amount == -payment.rate * Decimal(1000) * payment.mark_price
        assert (payment.amount < 0) == (payment.rate > 0)
    crash = [p for p in payments if p.rate == Decimal("-0.00219334")]
    assert len(crash) == 1
    assert crash[0].amount > 0
    assert exchange.drain_funding() == []


def test_short_receives_what_the_long_pays(xrp: Instrument, real_data_dir: Path) -> None:
    long_exchange, _ = run_with_position(xrp, real_data_dir, OrderSide.BUY)
    short_exchange, _ = run_with_position(xrp, real_data_dir, OrderSide.SELL)
    longs = long_exchange.drain_funding()
    shorts = short_exchange.drain_funding()
    assert [p.amount for p in shorts] == [-p.amount for p in longs]
    assert sum(p.amount for p in shorts) > 0  # mostly positive rates over the month


def test_funding_settles_only_while_a_position_is_open(
    xrp: Instrument, real_data_dir: Path
) -> None:
    funding = read_funding(real_data_dir / FUNDING)
    exchange = SimulatedExchange({xrp.symbol: xrp}, FillModel(), funding={xrp.symbol: funding})
    for i in range(5):
        ts_ms = int(funding.ts_ms[0]) - int(funding.ts_ms[0]) % 1000 + i * 8 * 3_600_000
        exchange.on_candle(xrp.symbol, ts_ms, 0.5, 0.5, 0.5, 0.5, 1.0)
    assert exchange.drain_funding() == []


def test_funding_needs_a_perpetual(real_data_dir: Path) -> None:
    spot = make_instrument(symbol="XRP/USDT", base="XRP", kind=MarketKind.SPOT)
    funding = read_funding(real_data_dir / FUNDING)
    with pytest.raises(ConfigError, match="XRP/USDT"):
        SimulatedExchange({spot.symbol: spot}, FillModel(), funding={spot.symbol: funding})
