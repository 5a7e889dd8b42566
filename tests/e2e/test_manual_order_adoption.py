"""Orders placed by hand on the bot's account while it runs join the running process (RC2, RK5).

A live run on the in-process emulator (``--speed max``, SQLite). The replay is held, orders are
placed through a second, plain ccxt client on the same account (as an operator's hand would),
and a reconciliation adopts them into the store. The running process must then hold them too:
its open orders and ``/ready`` count, its position and the risk engine's exposure, user-stream
updates for them, and the kill switch, which must cancel them. Entries of the bot itself are
refused by risk (a tiny symbol exposure limit), so every position is the hand's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.emulator_accounts import raw_client
from tests.integration.durability.conftest import run_session, until
from tests.integration.runtime.conftest import SYMBOL
from tests.integration.runtime.conftest import run_settings as run_settings  # shared fixtures
from tests.integration.runtime.conftest import xrp_slice as xrp_slice

from aegis.cli.run_summary import build_summary
from aegis.config import Settings
from aegis.engine.assembly import open_store
from aegis.engine.controls import request_control
from aegis.engine.runtime import TradingRuntime
from aegis.engine.session import RunSession, SessionInfo
from aegis.model import OrderSide, OrderStatus, PositionSide
from aegis.risk import KillScope
from aegis.risk.engine import exposures_from_portfolio
from aegis.venues.base import Venue

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TENANT, BOT = "default", "bot1"
REST_QTY, MARKET_QTY, SECOND_QTY = Decimal(20), Decimal(10), Decimal(7)


@pytest.fixture
def settings(run_settings: Callable[..., Settings]) -> Settings:
    """A live, step-driven run whose own entries risk refuses."""
    return run_settings(
        "live", risk={"cooldown_losses": 1_000_000, "max_symbol_exposure": "0.0001"}
    )


async def _venue_net(venue: Venue) -> Decimal:
    legs = [p for p in await venue.fetch_positions() if p.symbol == SYMBOL]
    return sum(
        (p.quantity if p.side is PositionSide.LONG else -p.quantity for p in legs), Decimal(0)
    )


async def _hold(session: RunSession, runtime: TradingRuntime, candles: int) -> None:
    """Hold the replay once ``candles`` candles were processed and the last step settled."""
    driver = session.step_driver
    assert driver is not None
    await until(lambda: len(runtime.record.symbols[SYMBOL].ts_ms) >= candles)
    driver.gate.clear()
    target = driver.clock.now_ms() - runtime.timeframe_ms
    await until(lambda: runtime.processed_ms.get(SYMBOL, -1) >= target)


async def _step(session: RunSession, runtime: TradingRuntime) -> None:
    """Let the replay close one more candle (the emulator fills market orders then)."""
    assert session.step_driver is not None
    done = len(runtime.record.symbols[SYMBOL].ts_ms)
    session.step_driver.gate.set()
    await _hold(session, runtime, done + 1)


async def test_manual_orders_are_adopted_followed_and_killed_by_the_running_bot(
    settings: Settings,
) -> None:
    session = RunSession(settings, install_signal_handlers=False)
    seen: dict[str, Any] = {}

    async def operator(info: SessionInfo, runtime: TradingRuntime) -> None:
        try:
            await act(info, runtime)
        finally:  # a failed check must not hold the replay forever
            assert session.step_driver is not None
            session.step_driver.gate.set()

    async def act(info: SessionInfo, runtime: TradingRuntime) -> None:
        await _hold(session, runtime, 40)
        durable, services, emulator = session.durable, session.services, session.emulator
        assert durable is not None
        assert durable.reconciler is not None
        assert services is not None
        assert emulator is not None
        reconciler = durable.reconciler
        manager = runtime.pipeline.order_manager
        account = emulator.exchange_settings
        assert account.api_key is not None
        assert account.api_secret is not None
        seen["net_before"] = manager.net_quantity(SYMBOL)
        async with raw_client(emulator.server, account.api_key.get_secret_value(),
                              account.api_secret.get_secret_value()) as hand:  # fmt: skip
            close = runtime.last_close[SYMBOL]
            low = (close * Decimal("0.8")).quantize(Decimal("0.0001"))
            await hand.create_order(SYMBOL, "limit", "buy", float(REST_QTY), float(low),
                                    {"newClientOrderId": "hand-rest"})  # fmt: skip
            await hand.create_order(SYMBOL, "market", "buy", float(MARKET_QTY), None,
                                    {"newClientOrderId": "hand-market"})  # fmt: skip
            await _step(session, runtime)  # the market order fills on the venue
            seen["known_before"] = {"hand-rest", "hand-market"} & set(manager.orders)
            seen["net_unadopted"] = manager.net_quantity(SYMBOL)

            await reconciler.run("periodic")
            seen["rest"] = manager.orders.get("hand-rest")
            seen["market"] = manager.orders.get("hand-market")
            seen["open"] = {o.client_order_id for o in manager.open_orders}
            seen["net_after"] = manager.net_quantity(SYMBOL)
            seen["venue_net_after"] = await _venue_net(runtime.venue)
            seen["adopted_fills"] = manager.fill_counts.get("adopted", 0)
            seen["exposure"] = exposures_from_portfolio(manager.portfolio, {SYMBOL: close})
            async with httpx.AsyncClient(base_url=info.health_url or "", timeout=5) as client:
                ready = (await client.get("/ready")).json()
            seen["ready_open"] = ready["components"]["order_sync"]["open_orders"]
            # asking again, and a run that finds nothing new, book nothing twice
            await runtime.order_sync.confirm(SYMBOL)
            await reconciler.run("periodic")
            seen["adopted_fills_again"] = manager.fill_counts.get("adopted", 0)
            seen["net_again"] = manager.net_quantity(SYMBOL)

            # adopted while it rests, filled afterwards: the fill reaches the process once
            await hand.create_order(SYMBOL, "market", "buy", float(SECOND_QTY), None,
                                    {"newClientOrderId": "hand-second"})  # fmt: skip
            await reconciler.run("periodic")
            seen["second_adopted"] = manager.orders["hand-second"].status
            await _step(session, runtime)
            await until(lambda: manager.orders["hand-second"].status is OrderStatus.FILLED)
            seen["adopted_fills_second"] = manager.fill_counts.get("adopted", 0)
            seen["net_second"] = manager.net_quantity(SYMBOL)
            seen["venue_net_second"] = await _venue_net(runtime.venue)

            # the hand cancels its resting order: the user stream's update reaches the process
            await hand.cancel_order(None, SYMBOL, {"origClientOrderId": "hand-rest"})
            await until(lambda: manager.orders["hand-rest"].status is OrderStatus.CANCELLED)

            # another resting order, adopted, then the kill switch (RK5) must cancel it
            await hand.create_order(SYMBOL, "limit", "buy", float(REST_QTY), float(low),
                                    {"newClientOrderId": "hand-rest-2"})  # fmt: skip
            await reconciler.run("periodic")
            seen["rest2"] = manager.orders.get("hand-rest-2")
            # placed after the last run: the kill reconciles first, so it cancels this one too
            await hand.create_order(SYMBOL, "limit", "buy", float(REST_QTY), float(low),
                                    {"newClientOrderId": "hand-rest-3"})  # fmt: skip
            seen["rest3_before_kill"] = manager.orders.get("hand-rest-3")
            assert session.store is not None
            request_control(session.store, TENANT, "alice", "kill",
                            KillScope.of_bot(TENANT, BOT), reason="test")  # fmt: skip
            await services.poll_controls()
            seen["rest2_after_kill"] = manager.orders["hand-rest-2"].status
            seen["rest3_after_kill"] = manager.orders["hand-rest-3"].status
            await _step(session, runtime)  # the kill's flatten order fills
            await until(lambda: manager.net_quantity(SYMBOL) == 0)
            seen["venue_open_after_kill"] = await hand.fetch_open_orders(SYMBOL)
            seen["venue_net_after_kill"] = await _venue_net(runtime.venue)
        seen["done"] = True

    session.view = operator
    result = await run_session(session, 150)
    assert result.stop_reason == "end of data", result.task_failures
    assert seen.get("done"), seen

    assert seen["known_before"] == set()
    assert seen["net_before"] == seen["net_unadopted"] == 0  # unknown until adopted
    # the running process holds what reconciliation adopted, in its real state
    rest, market = seen["rest"], seen["market"]
    assert rest is not None
    assert market is not None
    assert rest.status is OrderStatus.ACCEPTED
    assert rest.tag == "adopted"
    assert market.status is OrderStatus.FILLED
    assert market.filled_quantity == MARKET_QTY
    assert "hand-rest" in seen["open"]
    assert seen["ready_open"] == len(seen["open"])
    # its fill moved the position once: the process agrees with the venue
    assert seen["adopted_fills"] == 1
    assert seen["net_after"] == MARKET_QTY == seen["venue_net_after"]
    assert seen["exposure"][SYMBOL] > 0  # the risk engine sees the position
    assert seen["adopted_fills_again"] == 1
    assert seen["net_again"] == MARKET_QTY
    assert seen["second_adopted"] is OrderStatus.ACCEPTED
    assert seen["adopted_fills_second"] == 2
    assert seen["net_second"] == seen["venue_net_second"]
    # the kill cancelled the adopted resting order and flattened the hand's position
    assert seen["rest2"] is not None
    assert seen["rest2_after_kill"] is OrderStatus.CANCELLED
    assert seen["rest3_before_kill"] is None
    assert seen["rest3_after_kill"] is OrderStatus.CANCELLED
    assert seen["venue_open_after_kill"] == []
    assert seen["venue_net_after_kill"] == 0

    manager = result.runtime.pipeline.order_manager
    assert manager.net_quantity(SYMBOL) == 0
    # the run's summary counts the hand's fills taken over during the run: every round trip
    # closed (no exit without its entry), and the return is the equity's own change
    summary = build_summary(result, time.perf_counter())
    assert summary["round_trips"] >= 1
    assert summary["total_return"] == pytest.approx(
        summary["final_equity"] / summary["initial_cash"] - 1, abs=1e-9
    )
    record_fills = result.runtime.record.symbols[SYMBOL].fills
    assert {"hand-market", "hand-second"} <= {f.client_order_id for f in record_fills}
    with open_store(settings) as store:
        fills = store.fills(TENANT, bot_id=BOT)
        positions = store.positions(TENANT, bot_id=BOT)
        stored = {o.client_order_id: o for o in store.orders(TENANT, bot_id=BOT)}
    # every fill once in the store, and the stored legs add up to them (journal legs reloaded)
    keys = [(f.client_order_id, f.trade_id) for f in fills]
    assert len(keys) == len(set(keys))
    net = sum((f.quantity if f.side is OrderSide.BUY else -f.quantity for f in fills), Decimal(0))
    assert net == 0
    # every leg flat: the journal wrote the kill's legs on top of the adopted ones
    assert [(p.side, p.quantity) for p in positions if p.quantity != 0] == []
    assert stored["hand-rest"].status is OrderStatus.CANCELLED
    assert stored["hand-rest-2"].status is OrderStatus.CANCELLED
    assert stored["hand-rest-3"].status is OrderStatus.CANCELLED
