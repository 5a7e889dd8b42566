"""Regressions found by the live bench: lost user-stream wake-ups, clock anchor, rate limiter."""

from __future__ import annotations

import asyncio
from typing import Any

from ccxt.async_support.base.ws.cache import ArrayCacheBySymbolById

from aegis.config import ExchangeSettings, Settings
from aegis.model.events import OrderEventKind
from aegis.venues.ccxt import CcxtVenue, RateLimitGate, RetryPolicy

SYMBOL = "XRP/USDT:USDT"


class StreamingExchange:
    """ccxt.pro's watch semantics: a message wakes only a watcher that is already waiting.

    ``message`` stores the order snapshot in ``orders`` (the real ccxt cache class, which
    updates an order in place and moves it to the end) and resolves the pending watch if any,
    as ``ccxt.async_support.base.ws.Client.resolve`` does: with no waiter the wake-up is lost.
    """

    def __init__(self) -> None:
        self.orders: Any = ArrayCacheBySymbolById(1000)
        self.last_response_headers: dict[str, str] = {}
        self._waiter: asyncio.Future[Any] | None = None

    async def watch_orders(self) -> Any:
        self._waiter = asyncio.get_running_loop().create_future()
        return await self._waiter

    def message(self, status: str, filled: str, ts_ms: int) -> None:
        self.orders.append(
            {"id": "7", "clientOrderId": "bot1.1", "symbol": SYMBOL, "side": "buy",
             "amount": "10", "filled": filled, "status": status, "price": None,
             "average": "0.5", "timestamp": 1_000, "lastUpdateTimestamp": ts_ms,
             "info": {"t": str(ts_ms) if filled != "0" else "0", "L": "0.5", "n": "0.001",
                      "N": "USDT"}}
        )  # fmt: skip
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(self.orders)


async def _no_sleep(seconds: float) -> None:
    return None


def _venue(exchange: StreamingExchange) -> CcxtVenue:
    return CcxtVenue(
        "binanceusdm",
        ExchangeSettings(),
        exchange=exchange,
        gate=RateLimitGate(sleep=_no_sleep),
        policy=RetryPolicy(max_attempts=1, base_delay_s=0.0),
        sleep=_no_sleep,
    )


async def test_a_fill_arriving_between_two_watches_is_not_lost() -> None:
    # Bug 1 of the live bench: the ACCEPT woke the watcher; the FILL landed before the next
    # watch_orders call, so ccxt stored it without waking anyone and the order stayed open in
    # the order manager ("an entry order is still open") until the next order's events.
    exchange = StreamingExchange()
    venue = _venue(exchange)
    first = asyncio.create_task(venue.watch_order_updates())
    await asyncio.sleep(0)
    exchange.message("open", "0", 2_000)
    accepted = await first
    assert [u.kind for u in accepted] == [OrderEventKind.ACCEPT]
    exchange.message("closed", "10", 3_000)  # nobody waits: ccxt drops the wake-up
    filled = await asyncio.wait_for(venue.watch_order_updates(), 1.0)
    assert [u.kind for u in filled] == [OrderEventKind.FILL]
    fill = filled[0].fill
    assert fill is not None
    assert fill.quantity == 10
    assert fill.trade_id == "3000"


async def test_a_snapshot_seen_once_gives_no_second_event() -> None:
    exchange = StreamingExchange()
    venue = _venue(exchange)
    task = asyncio.create_task(venue.watch_order_updates())
    await asyncio.sleep(0)
    exchange.message("closed", "10", 2_000)
    kinds = [u.kind for u in await task]
    assert kinds == [OrderEventKind.ACCEPT, OrderEventKind.FILL]
    again = asyncio.create_task(venue.watch_order_updates())
    await asyncio.sleep(0)
    assert not again.done()  # the cached snapshot was seen: the watch waits for a new message
    exchange.message("closed", "10", 2_000)  # the same snapshot once more (a resend)
    await asyncio.sleep(0)
    assert not again.done()
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)


def _emulator_settings(speed: str) -> Settings:
    return Settings.model_validate(
        {
            "mode": "live",
            "exchange": {"name": "emulator", "url": "http://127.0.0.1:9", "api_key": "k",
                         "api_secret": "s"},
            "market": {"symbols": [SYMBOL], "timeframe": "1m", "speed": speed},
        }
    )  # fmt: skip


class _FixedClockStepper:
    """``HttpStepper`` double: ``/_admin/clock`` answers the open time of the next candle."""

    closed = False

    def __init__(self, base_url: str, timeframe_ms: int) -> None:
        self.timeframe_ms = timeframe_ms

    async def now_ms(self) -> int:
        return 1_700_000_040_000

    async def close(self) -> None:
        type(self).closed = True


async def test_external_emulator_clock_does_not_lag_the_replay(monkeypatch: Any) -> None:
    # Bug 2: anchored at /_admin/clock (the next candle's open) the runtime's clock ran up to a
    # candle behind the replay, and the feed held each closed kline until it caught up.
    from aegis.engine import session as session_module

    monkeypatch.setattr(session_module, "HttpStepper", _FixedClockStepper)
    run = session_module.RunSession(_emulator_settings("60"), install_signal_handlers=False)
    clock, _, virtual, stepper = await run._clocks("http://127.0.0.1:9")
    assert virtual is None
    assert stepper is None
    # the candle opened at 1_700_000_040_000 - 60_000 closed no later than the next open; the
    # replay's time is at most one candle past the answer: the clock starts at that bound
    assert 1_700_000_100_000 <= clock() < 1_700_000_100_000 + 60_000
    assert _FixedClockStepper.closed  # its HTTP session is not left open


async def test_emulator_venue_skips_ccxts_client_side_limiter() -> None:
    # Bug 3: ccxt's limiter spaced each REST call by 50 ms; a --speed max replay confirms
    # orders every candle and spent most of its wall time asleep there. Real venues keep it.
    from aegis.engine.session import RunSession

    settings = _emulator_settings("max")
    venue = RunSession(settings)._venue(settings.exchange, "http://127.0.0.1:9")
    real = Settings.model_validate(
        {"mode": "live", "exchange": {"name": "binanceusdm", "api_key": "k", "api_secret": "s"}}
    )
    binance = RunSession(real)._venue(real.exchange, None)
    try:
        assert venue.exchange.enableRateLimit is False  # type: ignore[attr-defined]
        assert binance.exchange.enableRateLimit is True  # type: ignore[attr-defined]
    finally:
        await venue.close()
        await binance.close()
