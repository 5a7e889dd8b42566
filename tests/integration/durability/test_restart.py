"""PE3: a clean stop mid-run and a restart on the same store and emulator continue exactly as an
uninterrupted run: the same orders, client ids, fills and equity as the backtest of the file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from tests.emulator_accounts import exchange_section
from tests.integration.durability.conftest import FEE_BPS, SIZE, SYMBOL, run_session, until
from tests.integration.runtime.conftest import PARAMS

from aegis.backtest import BacktestConfig, run_backtest
from aegis.config import Settings
from aegis.data import read_candles
from aegis.engine.assembly import open_store
from aegis.engine.emulator import start_emulator
from aegis.engine.session import RunSession
from aegis.strategies import create_strategy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def _stop_flat_after(session: RunSession, steps: int) -> None:
    """Hold the replay after ``steps`` steps at a candle with no open order, then stop."""
    await until(lambda: session.step_driver is not None and session.runtime is not None)
    driver, runtime = session.step_driver, session.runtime
    assert driver is not None
    assert runtime is not None
    while True:
        await until(lambda want=steps: driver.steps >= want)
        driver.gate.clear()
        target = driver.clock.now_ms() - runtime.timeframe_ms
        await until(lambda want=target: runtime.processed_ms.get(SYMBOL, -1) >= want)
        if not runtime.pipeline.order_manager.has_open_orders():
            session.supervisor.request_stop("test stop")
            return
        steps = driver.steps + 1
        driver.gate.set()


async def test_restart_after_clean_stop_continues_like_an_uninterrupted_run(
    durable_settings: Callable[..., Settings], xrp_slice: Path
) -> None:
    base = durable_settings("live")
    emulator = await start_emulator(base)
    try:
        exchange = exchange_section(emulator)
        settings = durable_settings("live", exchange=exchange,
                                    runtime={"warmup_candles": 30})  # fmt: skip
        first = RunSession(settings, install_signal_handlers=False)
        stopper = asyncio.get_running_loop().create_task(_stop_flat_after(first, 150))
        one = await run_session(first)
        await stopper
        assert one.stop_reason == "test stop"
        second = RunSession(settings, install_signal_handlers=False)
        two = await run_session(second)
        assert two.stop_reason == "end of data"
        assert second.durable is not None
        restored = second.durable.durability.restored
        assert restored.strategies == [SYMBOL]
        assert restored.snapshot_owner
        assert restored.start_reconciliation == "clean"
    finally:
        await emulator.stop()
    with open_store(settings) as store:
        fills = store.fills("default", bot_id="bot1")
    backtest = run_backtest(
        read_candles(xrp_slice),
        create_strategy("ema_cross", PARAMS),
        BacktestConfig(
            cash=Decimal(10000),
            fee_bps=Decimal(FEE_BPS),
            size=Decimal(SIZE),
            instrument=two.runtime.pipeline.order_manager.instruments[SYMBOL],
            bot_id="bot1",
        ),
    )
    assert len(one.runtime.pipeline.fills) >= 2
    assert two.runtime.pipeline.fills
    tape = [(f.client_order_id, str(f.side), f.price, f.quantity, f.fee) for f in fills]
    assert tape == [
        (f.client_order_id, str(f.side), f.price, f.quantity, f.fee) for f in backtest.fills
    ]
