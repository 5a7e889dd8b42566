"""``fill_watchdog_for``: a watchdog only where fills come from a stream (live, not stepped)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from aegis.engine.metrics import RuntimeMetrics
from aegis.engine.paper import PaperVenue
from aegis.engine.runtime import TradingRuntime
from aegis.engine.watchdog import FillWatchdog, Recovery, fill_watchdog_for
from aegis.model import OrderStatus


def _runtime(venue: Any, *, stepped: bool = False) -> TradingRuntime:
    fake = SimpleNamespace(
        venue=venue,
        options=SimpleNamespace(confirm_before_decision=stepped),
        metrics=RuntimeMetrics(),
        pipeline=SimpleNamespace(order_manager=object()),
        order_sync=object(),
        wall_clock=lambda: 0,
        user_stream=object(),
        in_flight=set(),
    )
    return cast(TradingRuntime, fake)


def test_live_streamed_fills_get_a_watchdog_counting_into_the_metrics() -> None:
    runtime = _runtime(object())
    watchdog = fill_watchdog_for(runtime, 0.5)
    assert isinstance(watchdog, FillWatchdog)
    assert watchdog.interval_s == 0.5
    assert watchdog.stream is runtime.user_stream
    assert watchdog.in_flight is runtime.in_flight
    assert watchdog.on_recovery is not None
    watchdog.on_recovery(Recovery("c", "XRP/USDT:USDT", OrderStatus.FILLED, Decimal(1), 0.6))
    assert b"aegis_watchdog_recoveries_total 1.0" in runtime.metrics.render()


def test_no_watchdog_when_off_in_paper_mode_or_in_a_stepped_replay() -> None:
    assert fill_watchdog_for(_runtime(object()), 0) is None
    assert fill_watchdog_for(_runtime(PaperVenue.__new__(PaperVenue)), 5.0) is None
    assert fill_watchdog_for(_runtime(object(), stepped=True), 5.0) is None
