"""The runtime against the emulator: endpoints, faults, graceful shutdown (API3, EX3, EX4, OP2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.runtime.conftest import FEE_BPS, PARAMS, SIZE, SYMBOL

from aegis.backtest import BacktestConfig, run_backtest
from aegis.config import Settings
from aegis.data import read_candles
from aegis.engine.runtime import TradingRuntime
from aegis.engine.session import RunSession, SessionInfo, SessionResult
from aegis.model.enums import OrderStatus
from aegis.strategies import create_strategy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
TF_MS = 300_000
Probe = Callable[[RunSession, SessionInfo, TradingRuntime], Awaitable[None]]


async def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def run_with(settings: Settings, probe: Probe) -> tuple[SessionResult, RunSession]:
    """Run a session; ``probe`` runs beside it (as the live-view task) to pause and poke it."""
    holder: list[RunSession] = []

    async def view(info: SessionInfo, runtime: TradingRuntime) -> None:
        await probe(holder[0], info, runtime)

    session = RunSession(settings, view=view, install_signal_handlers=False)
    holder.append(session)
    result = await asyncio.wait_for(session.run(), 100)
    return result, session


def candles_done(runtime: TradingRuntime) -> int:
    return len(runtime.record.symbols[SYMBOL].ts_ms)


async def pause_at(session: RunSession, runtime: TradingRuntime, candles: int) -> None:
    driver = session.step_driver
    assert driver is not None
    await wait_until(lambda: candles_done(runtime) >= candles)
    driver.gate.clear()
    steps = driver.steps
    await asyncio.sleep(0)
    await wait_until(lambda: candles_done(runtime) >= steps)


async def test_health_ready_and_metrics_describe_the_running_bot(
    run_settings: Callable[..., Settings],
) -> None:
    seen: dict[str, Any] = {}

    async def probe(session: RunSession, info: SessionInfo, runtime: TradingRuntime) -> None:
        await pause_at(session, runtime, 120)
        async with httpx.AsyncClient(base_url=info.health_url or "", timeout=5) as client:
            seen["health"] = (await client.get("/health")).json()
            ready = await client.get("/ready")
            seen["ready"] = (ready.status_code, ready.json())
            seen["metrics"] = (await client.get("/metrics")).text
        assert session.step_driver is not None
        session.step_driver.gate.set()

    result, _ = await run_with(run_settings("live"), probe)
    assert seen["health"]["status"] == "ok"
    status, ready = seen["ready"]
    assert status == 200, ready
    feed = ready["components"]["feeds"][SYMBOL]
    assert feed["ready"] is True
    assert feed["age_s"] is not None
    assert ready["components"]["user_stream"]["ready"] is True
    assert ready["components"]["order_sync"]["ready"] is True
    metrics = seen["metrics"]
    for name in ("aegis_orders{", "aegis_fills_total", "aegis_websocket_reconnects",
                 "aegis_feed_age_seconds{", "aegis_decision_latency_seconds_bucket"):  # fmt: skip
        assert name in metrics, name
    assert f'aegis_fills_total{{symbol="{SYMBOL}"}}' in metrics
    assert result.stop_reason == "end of data"


async def test_shutdown_mid_run_leaves_no_order_pending(
    run_settings: Callable[..., Settings],
) -> None:
    caught: dict[str, Any] = {}

    async def probe(session: RunSession, info: SessionInfo, runtime: TradingRuntime) -> None:
        driver = session.step_driver
        assert driver is not None
        manager = runtime.pipeline.order_manager
        # stop right after an order was sent and before the candle that would fill it
        await wait_until(lambda: manager.has_open_orders())
        driver.gate.clear()
        caught["open"] = [o.client_order_id for o in manager.open_orders]
        session.supervisor.request_stop("signal SIGTERM")

    result, _ = await run_with(run_settings("live"), probe)
    assert result.stop_reason == "signal SIGTERM"
    assert result.unsettled == []
    orders = result.runtime.pipeline.order_manager.orders
    for coid in caught["open"]:
        assert orders[coid].status in (OrderStatus.CANCELLED, OrderStatus.FILLED)
    assert not result.runtime.pipeline.order_manager.has_open_orders()


async def test_listen_key_expiry_mid_run_changes_nothing_in_the_result(
    xrp_slice: Path, run_settings: Callable[..., Settings]
) -> None:
    async def probe(session: RunSession, info: SessionInfo, runtime: TradingRuntime) -> None:
        await pause_at(session, runtime, 100)
        emulator = session.emulator
        assert emulator is not None
        emulator.server.set_fault("listen_key_expire", "0")
        stream = runtime.user_stream
        await wait_until(lambda: stream.reconnects >= 1 and stream.is_connected, 30)
        assert session.step_driver is not None
        session.step_driver.gate.set()

    settings = run_settings("live", runtime={"user_stream_silence_s": 1.0})
    result, _ = await run_with(settings, probe)
    assert result.runtime.user_stream.reconnects >= 1
    assert result.runtime.user_stream.resyncs >= 2
    instrument = result.runtime.pipeline.order_manager.instruments[SYMBOL]
    backtest = run_backtest(
        read_candles(xrp_slice),
        create_strategy("ema_cross", PARAMS),
        BacktestConfig(cash=Decimal(10000), fee_bps=Decimal(FEE_BPS), size=Decimal(SIZE),
                       instrument=instrument, bot_id="bot1"),
    )  # fmt: skip
    fills = result.runtime.pipeline.fills
    assert [(f.client_order_id, f.price, f.quantity) for f in fills] == [
        (f.client_order_id, f.price, f.quantity) for f in backtest.fills
    ]


async def test_no_decision_on_a_series_with_an_unfilled_gap(
    run_settings: Callable[..., Settings],
) -> None:
    marks: dict[str, int] = {}

    async def probe(session: RunSession, info: SessionInfo, runtime: TradingRuntime) -> None:
        await pause_at(session, runtime, 60)
        emulator = session.emulator
        assert emulator is not None
        marks["before"] = runtime.record.symbols[SYMBOL].ts_ms[-1]
        emulator.server.set_fault("gap", "2")  # two candles missing from the stream and REST
        assert session.step_driver is not None
        session.step_driver.gate.set()

    settings = run_settings("paper", runtime={"step_wait_s": 0.2})
    result, _ = await run_with(settings, probe)
    runtime = result.runtime
    assert runtime.feed.counters.stale_events[SYMBOL] == 1
    assert runtime.feed.health(SYMBOL).epoch == 1
    times = runtime.record.symbols[SYMBOL].ts_ms
    gap_from = marks["before"] + TF_MS
    assert gap_from not in times
    assert gap_from + TF_MS not in times
    # the strategy restarted after the hole: it needs `slow` bars before deciding again
    resumed = gap_from + 2 * TF_MS
    slow = int(PARAMS["slow"])
    decisions = runtime.pipeline.decisions + runtime.pipeline.order_manager.thoughts
    assert not [d for d in decisions if resumed <= d.ts_ms < resumed + slow * TF_MS]
    assert result.stop_reason == "end of data"
