"""The venue's share of a closed candle's way to its order (issue 3 section 7).

A candle is found in ccxt's cache without reading the whole cache, and no log line is
rendered between the submission and the request: both used to cost tenths of a millisecond
of decision latency on the project machine.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from decimal import Decimal
from typing import Any

import structlog

from aegis.config import ExchangeSettings
from aegis.model import (
    Instrument,
    MarketKind,
    Order,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
)
from aegis.venues.ccxt import CcxtVenue
from aegis.venues.ccxt.streams import ClosedCandles

MINUTE = 60_000
BTC = Instrument(
    symbol="BTC/USDT:USDT", base="BTC", quote="USDT", kind=MarketKind.LINEAR_PERPETUAL,
    tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
)  # fmt: skip


def _row(index: int) -> list[Any]:
    return [index * MINUTE, 1.0, 1.2, 0.9, 1.1, 5.0]


def test_closed_candles_read_only_the_cache_tail_after_the_last_candle_returned() -> None:
    tracker = ClosedCandles()
    tracker.mark_closed("XY", "1m", MINUTE)
    assert [c.ts_ms for c in tracker.closed("X/Y", "XY", "1m", [_row(0), _row(1)])] == [
        0,
        MINUTE,
    ]
    # Rows before the last candle returned are never read again: these would not even parse.
    unreadable: list[Any] = [[None, None, None, None, None, None]] * 998
    tracker.mark_closed("XY", "1m", 2 * MINUTE)
    cache = [*unreadable, _row(0), _row(1), _row(2)]
    assert [c.ts_ms for c in tracker.closed("X/Y", "XY", "1m", cache)] == [2 * MINUTE]


def test_a_candle_in_the_cache_and_in_the_watch_answer_is_returned_once() -> None:
    tracker = ClosedCandles()
    tracker.mark_closed("XY", "1m", 0)
    tracker.mark_closed("XY", "1m", MINUTE)
    cache = [_row(0), _row(1)]
    answer = [_row(1)]
    assert [c.ts_ms for c in tracker.closed("X/Y", "XY", "1m", [*cache, *answer])] == [
        0,
        MINUTE,
    ]
    assert tracker.closed("X/Y", "XY", "1m", [*cache, *answer]) == []


def test_an_open_candle_waits_for_its_flag_or_a_newer_candle() -> None:
    tracker = ClosedCandles()
    assert tracker.closed("X/Y", "XY", "1m", [_row(5)]) == []
    assert [c.ts_ms for c in tracker.closed("X/Y", "XY", "1m", [_row(5), _row(6)])] == [5 * MINUTE]


class _Exchange:
    """``create_order`` notes which log events were already emitted when it was called."""

    def __init__(self, logs: list[MutableMapping[str, Any]]) -> None:
        self.logs = logs
        self.events_at_call: list[str] | None = None
        self.last_response_headers: dict[str, str] = {}

    async def create_order(self, symbol, type, side, amount, price, params):  # type: ignore[no-untyped-def]
        self.events_at_call = [entry["event"] for entry in self.logs]
        return {
            "id": "1", "clientOrderId": params["newClientOrderId"], "symbol": symbol,
            "side": side, "type": type, "amount": amount, "filled": "0", "status": "open",
            "timestamp": 1,
        }  # fmt: skip


async def test_the_order_is_logged_after_its_request_not_before() -> None:
    order = Order(
        client_order_id="bot1-7", bot_id="bot1", symbol=BTC.symbol, side=OrderSide.BUY,
        type=OrderType.MARKET, quantity=Decimal("0.010"), price=None,
        status=OrderStatus.SUBMITTED,
    )  # fmt: skip
    with structlog.testing.capture_logs() as logs:
        exchange = _Exchange(logs)
        venue = CcxtVenue("binanceusdm", ExchangeSettings(), exchange=exchange)
        venue._instruments = {BTC.symbol: BTC}
        update = await venue.submit(order)
    assert update.kind is OrderEventKind.ACCEPT
    assert exchange.events_at_call == []
    sent = [entry for entry in logs if entry["event"] == "order_sent"]
    assert len(sent) == 1
    assert sent[0]["client_order_id"] == "bot1-7"
    assert sent[0]["answered"] is True
