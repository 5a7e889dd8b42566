"""Parity (issue 3 section 5): backtest = paper = live through ccxt against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.runtime.conftest import FEE_BPS, PARAMS, SIZE, SYMBOL

from aegis.backtest import BacktestConfig, run_backtest
from aegis.config import Settings
from aegis.data import read_candles
from aegis.engine.session import RunSession, SessionResult
from aegis.model.events import Fill
from aegis.strategies import create_strategy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def run_session(settings: Settings) -> SessionResult:
    session = RunSession(settings, install_signal_handlers=False)
    return await asyncio.wait_for(session.run(), 90)


def trade_tape(fills: list[Fill]) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(str(f.side), f.price, f.quantity, f.fee) for f in fills]


async def test_backtest_paper_and_live_agree_on_orders_fills_and_equity(
    xrp_slice: Path, run_settings: Callable[..., Settings]
) -> None:
    # The backtest runner does not run the risk engine yet: the paper and live runs get limits
    # that never bind on this slice (no loss cooldown), so all three see the same rules.
    permissive = {"risk": {"cooldown_losses": 1_000_000}}
    paper = await run_session(run_settings("paper", **permissive))
    live = await run_session(run_settings("live", **permissive))
    instrument = paper.runtime.pipeline.order_manager.instruments[SYMBOL]
    backtest = run_backtest(
        read_candles(xrp_slice),
        create_strategy("ema_cross", PARAMS),
        BacktestConfig(
            cash=Decimal(10000),
            fee_bps=Decimal(FEE_BPS),
            size=Decimal(SIZE),
            instrument=instrument,
            bot_id="bot1",
        ),
    )
    assert len(backtest.fills) >= 6, "the slice must trade for the comparison to mean anything"
    for run in (paper, live):
        assert run.stop_reason == "end of data"
        assert run.unsettled == []
        runtime = run.runtime
        assert len(runtime.record.symbols[SYMBOL].ts_ms) == backtest.candles
        assert trade_tape(runtime.pipeline.fills) == trade_tape(backtest.fills)
        # same client order ids (same bot id, same sequence): the same orders, in the same order
        assert [f.client_order_id for f in runtime.pipeline.fills] == [
            f.client_order_id for f in backtest.fills
        ]
        unfilled = [
            o for o in runtime.pipeline.order_manager.orders.values() if not o.filled_quantity
        ]
        assert all(o.created_ns // 1_000_000 >= int(backtest.ts_ms[-1]) for o in unfilled)
        last = Decimal(repr(float(backtest.close[-1])))
        equity = runtime.pipeline.order_manager.portfolio.equity({SYMBOL: last})
        assert abs(equity - backtest.final_equity) <= Decimal("1e-9")
