"""A fill the user stream lost is applied by the fill watchdog within a few intervals (live).

A live, paced (not step-driven) run on the in-process emulator through unmodified ccxt, with
``runtime.fill_watchdog_s = 0.2``. The replay is paced at one candle per five minutes, so the
test closes candles itself. The bot's market order is accepted; the account's user-data events
are then withheld by the emulator (its socket stays open and silent, as when ccxt.pro's receive
loop died) and the next candle fills the order on the venue. The watchdog must notice the
overdue order, apply the fill from REST, log and count the recovery and have the user stream
restarted. The withheld events are delivered afterwards on the new stream: the fill is booked
once, in the order manager and in the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from tests.integration.durability.conftest import run_session, until
from tests.integration.runtime.conftest import SYMBOL
from tests.integration.runtime.conftest import run_settings as run_settings  # shared fixtures
from tests.integration.runtime.conftest import xrp_slice as xrp_slice

from aegis.config import Settings
from aegis.engine.assembly import open_store
from aegis.engine.runtime import TradingRuntime
from aegis.engine.session import RunSession, SessionInfo
from aegis.model import Action, Decision, OrderStatus, OrderType

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TENANT, BOT = "default", "bot1"
WATCHDOG_S = 0.2


@pytest.fixture
def settings(run_settings: Callable[..., Settings], xrp_slice: Path) -> Settings:
    """A live run paced at real time (one 5m candle per 300 s): candles close when we say."""
    return run_settings(
        "live",
        market={"symbols": [SYMBOL], "timeframe": "5m", "data": [xrp_slice], "speed": "1"},
        risk={"cooldown_losses": 1_000_000},
        runtime={"fill_watchdog_s": WATCHDOG_S},
    )


class Withheld:
    """Hold the emulator's user-data events back (the socket stays open), then deliver them."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.publish: Callable[..., None] = hub.publish_user
        self.events: list[tuple[Any, ...]] = []

    def __enter__(self) -> Withheld:
        self.hub.publish_user = lambda *event: self.events.append(event)
        return self

    def __exit__(self, *exc: object) -> None:
        self.hub.publish_user = self.publish

    def deliver(self) -> None:
        for event in self.events:
            self.publish(*event)


async def _market(runtime: TradingRuntime, action: Action = Action.ENTER_LONG) -> str:
    """Send the bot's market order through the runtime's own path; return its client id."""
    close = runtime.last_close[SYMBOL]
    now_ms = runtime.clock()
    decision = Decision(SYMBOL, now_ms, action, 1.0, "watchdog test", "test", {})
    order = runtime.prepare(decision, float(close), now_ms * 1_000_000)
    assert order is not None
    assert order.type is OrderType.MARKET
    await runtime.submit(order)
    return order.client_order_id


async def test_a_fill_the_stream_lost_is_applied_by_the_watchdog_once(
    settings: Settings,
) -> None:
    session = RunSession(settings, install_signal_handlers=False)
    seen: dict[str, Any] = {}

    async def operator(info: SessionInfo, runtime: TradingRuntime) -> None:
        try:
            await act(info, runtime)
        finally:  # a failed check must not leave the session running
            session.supervisor.request_stop("test done")

    async def act(info: SessionInfo, runtime: TradingRuntime) -> None:
        emulator, watchdog, stream = session.emulator, runtime.fill_watchdog, runtime.user_stream
        assert emulator is not None
        assert watchdog is not None
        assert watchdog.interval_s == WATCHDOG_S
        seen["tasks"] = session.supervisor.names
        await until(lambda: stream.is_connected, 30)
        runtime.is_deciding = False  # only the order below trades: candles close on our steps
        manager = runtime.pipeline.order_manager
        coid = await _market(runtime)
        seen["accepted"] = manager.orders[coid].status
        # the venue has it open (a market order fills on the next candle): asked, not recovered
        await until(lambda: watchdog.confirms >= 1, 10)  # one finished
        seen["recoveries_while_open"] = watchdog.recoveries
        seen["restarts_while_open"] = stream.restart_requests

        with Withheld(emulator.server.hub) as withheld:
            emulator.server.step(1)  # the order fills on the venue; the stream says nothing
            loop = asyncio.get_running_loop()
            started = loop.time()
            await until(lambda: manager.orders[coid].status is OrderStatus.FILLED, 10)
            seen["recovered_after_s"] = loop.time() - started
            seen["withheld"] = [e[2] for e in withheld.events]
            seen["recoveries"] = watchdog.recoveries
            # the stream that lost a fill is restarted and resynced by its own loop
            await until(lambda: stream.last_resync_reason == "watchdog" and stream.is_connected,
                        20)  # fmt: skip
            seen["restart_requests"] = stream.restart_requests
            async with httpx.AsyncClient(base_url=info.health_url or "", timeout=5) as client:
                seen["ready"] = (await client.get("/ready")).json()
                seen["metrics"] = (await client.get("/metrics")).text
        # the lost events arrive late on the new stream: the applier drops the known fill
        updates, duplicates = stream.updates, runtime.applier.skipped.copy()
        withheld.deliver()
        await until(lambda: stream.updates > updates, 20)
        seen["skipped_late"] = runtime.applier.skipped - duplicates
        seen["fills"] = [f for f in runtime.pipeline.fills if f.client_order_id == coid]
        seen["order"] = manager.orders[coid]
        seen["coid"] = coid
        seen["done"] = True

    session.view = operator
    with structlog.testing.capture_logs() as logs:
        result = await run_session(session, 90)
    assert seen.get("done"), (seen, result.task_failures)
    assert "fill-watchdog" in seen["tasks"]
    assert seen["accepted"] is OrderStatus.ACCEPTED
    assert seen["recoveries_while_open"] == 0, [e for e in logs if "watchdog" in e["event"]]
    assert seen["restarts_while_open"] == 0
    # the fill never came on the stream while it was withheld
    assert any(e.get("e") == "ORDER_TRADE_UPDATE" and e["o"]["X"] == "FILLED"
               for e in seen["withheld"])  # fmt: skip
    assert seen["recovered_after_s"] < 10 * WATCHDOG_S + 3  # a few intervals, not 600 s
    assert seen["recoveries"] == 1
    assert seen["restart_requests"] >= 1
    coid = seen["coid"]
    warnings = [e for e in logs if e["event"] == "fill_recovered_by_watchdog"]
    assert [(e["client_order_id"], e["symbol"], e["status"]) for e in warnings] == [
        (coid, SYMBOL, "filled")
    ]
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["overdue_s"] >= WATCHDOG_S
    assert any(e["event"] == "user_stream_restart_requested" and e["reason"] == "watchdog"
               for e in logs)  # fmt: skip
    watchdog_state = seen["ready"]["components"]["fill_watchdog"]
    assert watchdog_state["enabled"] is True
    assert watchdog_state["recoveries"] == 1
    assert "aegis_watchdog_recoveries_total 1.0" in seen["metrics"]
    # booked exactly once: the late stream event and the resync were duplicates
    assert sum(seen["skipped_late"].values()) >= 1
    assert len(seen["fills"]) == 1
    order = seen["order"]
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == order.quantity
    assert len(result.runtime.record.symbols[SYMBOL].fills) == 1
    with open_store(settings) as store:
        fills = [f for f in store.fills(TENANT, bot_id=BOT) if f.client_order_id == coid]
        stored = {o.client_order_id: o for o in store.orders(TENANT, bot_id=BOT)}
    assert len(fills) == 1
    assert fills[0].quantity == order.quantity
    assert stored[coid].status is OrderStatus.FILLED
    assert stored[coid].filled_quantity == order.quantity


async def test_a_dead_ccxt_receive_loop_is_caught_and_the_stream_comes_back(
    settings: Settings,
) -> None:
    """The incident: a handler raising inside ccxt.pro's receive loop killed it silently."""
    session = RunSession(settings, install_signal_handlers=False)
    seen: dict[str, Any] = {}

    async def operator(info: SessionInfo, runtime: TradingRuntime) -> None:
        try:
            await act(runtime)
        finally:
            session.supervisor.request_stop("test done")

    async def act(runtime: TradingRuntime) -> None:
        emulator, watchdog, stream = session.emulator, runtime.fill_watchdog, runtime.user_stream
        assert emulator is not None
        assert watchdog is not None
        await until(lambda: stream.is_connected, 30)
        runtime.is_deciding = False
        manager = runtime.pipeline.order_manager
        exchange = runtime.venue.exchange  # type: ignore[attr-defined]  # the live CcxtVenue's
        handler = exchange.handle_order_update

        def raising(client: Any, message: dict[str, Any]) -> Any:
            if message.get("o", {}).get("X") == "FILLED":
                exchange.handle_order_update = handler  # once, as the incident's KeyError
                raise KeyError("")
            return handler(client, message)

        exchange.handle_order_update = raising
        first = await _market(runtime)
        emulator.server.step(1)  # fills; its event kills ccxt's receive loop, nothing wakes
        await until(lambda: manager.orders[first].status is OrderStatus.FILLED, 10)
        seen["handler_restored"] = exchange.handle_order_update is handler
        seen["recoveries"] = watchdog.recoveries
        await until(lambda: stream.last_resync_reason == "watchdog" and stream.is_connected, 20)
        # from here only the stream can deliver a fill: no watchdog, no further resync
        await session.supervisor.cancel("fill-watchdog")
        resyncs = stream.resyncs
        second = await _market(runtime, Action.EXIT_LONG)  # the exit the incident blocked
        emulator.server.step(1)
        await until(lambda: manager.orders[second].status is OrderStatus.FILLED, 10)
        seen["resyncs_after"] = stream.resyncs - resyncs
        seen["fills"] = {
            coid: len([f for f in runtime.pipeline.fills if f.client_order_id == coid])
            for coid in (first, second)
        }
        seen["done"] = True

    session.view = operator
    result = await run_session(session, 90)
    assert seen.get("done"), (seen, result.task_failures)
    assert seen["handler_restored"]  # the broken handler did run on the fill
    assert seen["recoveries"] == 1
    assert seen["resyncs_after"] == 0  # the second fill came on the restarted stream
    assert list(seen["fills"].values()) == [1, 1]
