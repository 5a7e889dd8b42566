"""Parity (issue 3 section 5): backtest = paper = live through ccxt against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.runtime.conftest import FEE_BPS, PARAMS, SIZE, SYMBOL

from aegis.backtest import BacktestConfig, BacktestResult, run_backtest
from aegis.config import RiskLimitSettings, Settings
from aegis.data import read_candles
from aegis.engine.session import RunSession, SessionResult
from aegis.model.events import Fill
from aegis.model.signals import Decision
from aegis.strategies import create_strategy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def run_session(settings: Settings) -> SessionResult:
    session = RunSession(settings, install_signal_handlers=False)
    return await asyncio.wait_for(session.run(), 90)


def trade_tape(fills: list[Fill]) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(str(f.side), f.price, f.quantity, f.fee) for f in fills]


def backtest_of(
    xrp_slice: Path, run: SessionResult, risk: RiskLimitSettings | None = None
) -> BacktestResult:
    """The backtest of the run's file, strategy, fill model and bot id (same order ids)."""
    return run_backtest(
        read_candles(xrp_slice),
        create_strategy("ema_cross", PARAMS),
        BacktestConfig(
            cash=Decimal(10000),
            fee_bps=Decimal(FEE_BPS),
            size=Decimal(SIZE),
            instrument=run.runtime.pipeline.order_manager.instruments[SYMBOL],
            bot_id="bot1",
            risk=risk,
        ),
    )


def risk_refusals(decisions: list[Decision]) -> list[tuple[int, str]]:
    """(ts_ms, reason) of every entry the risk engine refused."""
    return [
        (d.ts_ms, str(d.metadata["reason"]))
        for d in decisions
        if d.metadata.get("outcome") == "rejected" and str(d.metadata["reason"]).startswith("risk ")
    ]


async def test_backtest_paper_and_live_agree_on_orders_fills_and_equity(
    xrp_slice: Path, run_settings: Callable[..., Settings]
) -> None:
    # default risk settings on every side: the same engine gates the backtest and the runs
    paper = await run_session(run_settings("paper"))
    live = await run_session(run_settings("live"))
    backtest = backtest_of(xrp_slice, paper)
    assert len(backtest.fills) >= 6, "the slice must trade for the comparison to mean anything"
    assert risk_refusals(backtest.decisions) == []
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


async def test_backtest_and_paper_agree_when_a_risk_rule_binds(
    xrp_slice: Path, run_settings: Callable[..., Settings]
) -> None:
    # a loss cooldown after 2 consecutive losing round trips refuses entries on this slice
    risk = {"cooldown_losses": 2, "cooldown_s": 3600}
    paper = await run_session(run_settings("paper", risk=risk))
    backtest = backtest_of(xrp_slice, paper, RiskLimitSettings(**risk))
    unlimited = backtest_of(xrp_slice, paper)
    refused = risk_refusals(backtest.decisions)
    assert refused, "the cooldown must bind for the comparison to mean anything"
    assert all("cooldown" in reason for _, reason in refused)
    assert len(backtest.fills) < len(unlimited.fills)
    assert paper.stop_reason == "end of data"
    manager = paper.runtime.pipeline.order_manager
    assert trade_tape(paper.runtime.pipeline.fills) == trade_tape(backtest.fills)
    assert [f.client_order_id for f in paper.runtime.pipeline.fills] == [
        f.client_order_id for f in backtest.fills
    ]
    # the same entries refused, at the same candles, for the same reason
    assert risk_refusals(manager.thoughts) == refused
    last = Decimal(repr(float(backtest.close[-1])))
    assert abs(manager.portfolio.equity({SYMBOL: last}) - backtest.final_equity) <= Decimal("1e-9")
