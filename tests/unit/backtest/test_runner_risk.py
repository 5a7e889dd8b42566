"""BT1 for risk: the backtest gates every entry through the risk engine a run uses."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from tests.unit.backtest.test_runner import MINUTE, _script

from aegis.backtest import BacktestConfig, BacktestResult, run_backtest
from aegis.config import RiskLimitSettings
from aegis.data import Candles
from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision
from aegis.risk import RiskSettings, limits_from_config

ENTER, EXIT = Action.ENTER_LONG, Action.EXIT_LONG
#: three losing round trips on a falling market, then a fourth entry
LOSING = ((1, ENTER), (3, EXIT), (5, ENTER), (7, EXIT), (9, ENTER), (11, EXIT), (13, ENTER))


def _falling(n: int = 16) -> Candles:
    close = 200.0 - 2 * np.arange(n, dtype=np.float64)
    open_ = close + 1
    return Candles(
        ts_ms=np.arange(n, dtype=np.int64) * MINUTE + 1_700_000_000_000, open=open_,
        high=open_ + 1, low=close - 1, close=close, volume=np.full(n, 10.0),
        symbol="BTC/USDT", timeframe_ms=MINUTE,
    )  # fmt: skip


def _refusals(result: BacktestResult) -> list[Decision]:
    return [d for d in result.decisions if d.metadata.get("outcome") == "rejected"]


def _run(risk: RiskLimitSettings | None, *, streaming: bool = False) -> BacktestResult:
    config = BacktestConfig(cash=Decimal(10_000), size=Decimal(1), risk=risk)
    return run_backtest(_falling(), _script(*LOSING, streaming=streaming), config)


def test_default_limits_are_the_runs_and_let_the_losing_entries_through() -> None:
    assert BacktestConfig().risk_limits() == limits_from_config(RiskLimitSettings())
    assert BacktestConfig().risk_limits() == RiskSettings()
    result = _run(None)
    assert result.trades == 4
    assert _refusals(result) == []


@pytest.mark.parametrize("streaming", [False, True])
def test_a_binding_cooldown_refuses_the_entry_and_leaves_a_thought(streaming: bool) -> None:
    result = _run(RiskLimitSettings(cooldown_losses=2, cooldown_s=3_600), streaming=streaming)
    # losses 1 and 2 start an hour's cooldown: the entries at bars 9 and 13 are refused
    assert result.trades == 2
    refused = _refusals(result)
    assert [d.ts_ms for d in refused] == [int(_falling().ts_ms[bar]) for bar in (9, 13)]
    for decision in refused:
        reason = str(decision.metadata["reason"])
        assert reason.startswith("risk cooldown: cooldown after 2 consecutive losses until ts_ns")
        assert "-> rejected: risk cooldown" in decision.thought
    # the exits of the refused entries have nothing to close: ignored, not sent
    assert any("2 decision(s) rejected" in warning for warning in result.warnings)


def test_both_walks_agree_when_a_rule_binds() -> None:
    risk = RiskLimitSettings(cooldown_losses=1, cooldown_s=60)
    fast, slow = _run(risk), _run(risk, streaming=True)
    assert [(f.side, f.price, f.quantity) for f in fast.fills] == [
        (f.side, f.price, f.quantity) for f in slow.fills
    ]
    assert [d.ts_ms for d in _refusals(fast)] == [d.ts_ms for d in _refusals(slow)]


def test_the_symbol_exposure_limit_refuses_a_large_fraction_by_default() -> None:
    config = BacktestConfig(cash=Decimal(10_000), fraction=Decimal("0.5"))
    result = run_backtest(_falling(), _script((1, ENTER)), config)
    assert result.trades == 0
    (refused,) = _refusals(result)
    assert str(refused.metadata["reason"]).startswith("risk symbol_exposure: symbol exposure")


def test_a_bad_risk_section_fails_when_the_config_is_made() -> None:
    with pytest.raises(ConfigError, match="max_symbol_exposure must be a number, got 'x'"):
        BacktestConfig(risk=RiskLimitSettings(max_symbol_exposure="x"))
