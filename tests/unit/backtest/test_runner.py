"""The backtest runner on synthetic data: fill timing, fees, marking, warnings, both walks."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from aegis.backtest import BacktestConfig, run_backtest
from aegis.config import RiskLimitSettings
from aegis.data import Candles, read_candles
from aegis.model.candle import Candle
from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument
from aegis.model.signals import Action, Decision
from aegis.strategies import EmaCross, Param, SignalFrame, Strategy, create_strategy

MINUTE = 60_000


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


FEE = Decimal("0.001")
#: risk limits wide enough for entries above the default 25 % of equity per symbol
WIDE_RISK = RiskLimitSettings(max_symbol_exposure="1")


class Scripted(Strategy):
    """Emits the actions of ``script`` (bar -> Action code); vectorised unless told not to."""

    name: ClassVar[str] = "scripted"
    parameters: ClassVar[Mapping[str, Param]] = {"script": Param(""), "streaming": Param(False)}

    def _configure(self) -> None:
        text = str(self.params["script"])
        pairs = (item.split(":") for item in text.split(",") if item)
        self.script = {int(bar): Action(int(code)) for bar, code in pairs}

    def _reset(self) -> None:
        self._bar = 0

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        action = self.script.get(self._bar, Action.HOLD)
        self._bar += 1
        return Decision(symbol, candle.ts_ms, action, 1.0, f"scripted {action.name}", self.name)

    def signals(self, candles: object) -> SignalFrame | None:
        if self.params["streaming"]:
            return None
        n = len(candles.ts_ms)  # type: ignore[attr-defined]
        action = np.zeros(n, dtype=np.int8)
        for bar, code in self.script.items():
            action[bar] = code
        return SignalFrame(
            action,
            (action != 0).astype(np.float64),
            self.name,
            lambda i: (f"scripted {Action(int(action[i])).name}", {}),
        )


def _candles(n: int = 10, *, gap_after: int | None = None) -> Candles:
    ts = np.arange(n, dtype=np.int64) * MINUTE + 1_700_000_000_000
    if gap_after is not None:
        ts[gap_after + 1 :] += 2 * MINUTE
    close = 100.0 + np.arange(n, dtype=np.float64)
    open_ = close - 0.5
    return Candles(
        ts_ms=ts, open=open_, high=close + 1, low=open_ - 1, close=close,
        volume=np.full(n, 10.0), symbol="BTC/USDT", timeframe_ms=MINUTE,
    )  # fmt: skip


def _script(*pairs: tuple[int, Action], streaming: bool = False) -> Scripted:
    text = ",".join(f"{bar}:{int(action)}" for bar, action in pairs)
    return Scripted(script=text, streaming=streaming)


CONFIG = BacktestConfig(cash=Decimal(1000), fee_bps=Decimal(10), size=Decimal(2))


def test_fills_at_the_next_open_with_a_fee_on_each_side() -> None:
    candles = _candles()
    result = run_backtest(candles, _script((2, Action.ENTER_LONG), (5, Action.EXIT_LONG)), CONFIG)
    entry, exit_ = result.fills
    assert entry.price == _dec(candles.open[3])
    assert entry.quantity == 2
    assert exit_.price == _dec(candles.open[6])
    assert entry.ts_ns == int(candles.ts_ms[3]) * 1_000_000
    assert entry.fee == entry.price * 2 * FEE
    assert exit_.fee == exit_.price * 2 * FEE
    (trip,) = result.round_trips
    expected = (exit_.price - entry.price) * 2 - entry.fee - exit_.fee
    assert trip.pnl == expected
    assert not trip.is_open
    assert result.final_equity == Decimal(1000) + expected
    assert result.fees_paid == entry.fee + exit_.fee
    assert result.trades == 1
    # equity: flat before the entry fill, marked at each close while long
    assert result.equity[2] == 1000.0
    cash_after_entry = 1000 - float(entry.price * 2 + entry.fee)
    assert result.equity[4] == pytest.approx(cash_after_entry + 2 * candles.close[4], abs=1e-9)
    assert result.equity[-1] == pytest.approx(float(result.final_equity), abs=1e-9)


def test_open_position_is_marked_at_the_last_close() -> None:
    candles = _candles()
    result = run_backtest(candles, _script((6, Action.ENTER_LONG)), CONFIG)
    (entry,) = result.fills
    last = _dec(candles.close[-1])
    assert result.final_equity == Decimal(1000) - entry.price * 2 - entry.fee + 2 * last
    (trip,) = result.round_trips
    assert trip.is_open
    assert trip.exit_price is None
    assert trip.pnl == (last - entry.price) * 2 - entry.fee
    data = result.to_json()
    assert data["round_trips"] == 1
    assert data["trades"] == 1
    assert data["profit_factor"] is None
    assert "profit_factor" in data["null_reasons"]


def test_exit_when_flat_is_ignored_and_kept_with_a_thought() -> None:
    result = run_backtest(_candles(), _script((1, Action.EXIT_LONG)), CONFIG)
    assert result.fills == []
    (decision,) = result.decisions
    assert "ignored" in decision.thought
    assert np.all(result.equity == 1000.0)


def test_gaps_are_warned_about_and_never_filled() -> None:
    candles = _candles(gap_after=4)
    result = run_backtest(candles, _script((4, Action.ENTER_LONG)), CONFIG)
    assert result.candles == len(candles) == result.equity.shape[0]
    assert any("gap" in warning and "2 missing" in warning for warning in result.warnings)
    # the fill is at the next candle that exists, after the gap
    assert result.fills[0].ts_ns == int(candles.ts_ms[5]) * 1_000_000


def test_permissive_instrument_is_announced_and_a_given_one_is_used() -> None:
    result = run_backtest(_candles(), _script(), CONFIG)
    assert any("permissive instrument" in warning for warning in result.warnings)
    instrument = Instrument(
        symbol="BTC/USDT", base="BTC", quote="USDT", tick_size=Decimal("0.01"),
        step_size=Decimal("1"), min_notional=Decimal("500"),
    )  # fmt: skip
    config = BacktestConfig(cash=Decimal(1000), size=Decimal(2), instrument=instrument)
    strict = run_backtest(_candles(), _script((2, Action.ENTER_LONG)), config)
    assert not any("permissive" in warning for warning in strict.warnings)
    assert strict.fills == []  # 2 * 102 < min_notional 500: rejected locally
    assert "min_notional" in strict.decisions[0].thought


def test_fraction_sizing_uses_equity_at_the_signal_close() -> None:
    config = BacktestConfig(
        cash=Decimal(1000), fee_bps=Decimal(0), fraction=Decimal("0.5"), risk=WIDE_RISK
    )
    result = run_backtest(_candles(), _script((2, Action.ENTER_LONG)), config)
    # 500 / close[2] = 500 / 102, floored to the permissive 1e-12 step
    assert result.fills[0].quantity == Decimal("4.901960784313")


@pytest.mark.parametrize("seed", [0, 7])
def test_vectorised_walk_equals_bar_by_bar_walk(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    candles = Candles(
        ts_ms=np.arange(n, dtype=np.int64) * MINUTE, open=open_,
        high=np.maximum(open_, close) * 1.001, low=np.minimum(open_, close) * 0.999, close=close,
        volume=np.ones(n), symbol="ETH/USDT", timeframe_ms=MINUTE,
    )  # fmt: skip
    bars = sorted(rng.choice(n, 60, replace=False).tolist())
    pairs = [(bar, Action(int(rng.integers(1, 3)))) for bar in bars]
    config = BacktestConfig(
        cash=Decimal(10_000), fraction=Decimal("0.3"), seed=seed, risk=WIDE_RISK
    )
    fast = run_backtest(candles, _script(*pairs), config)
    slow = run_backtest(candles, _script(*pairs, streaming=True), config)
    assert fast.fills
    assert fast.fills == slow.fills
    assert np.array_equal(fast.equity, slow.equity)
    assert fast.final_equity == slow.final_equity
    assert [d.thought for d in fast.decisions] == [d.thought for d in slow.decisions]


def test_size_and_fraction_are_mutually_exclusive() -> None:
    with pytest.raises(ConfigError, match="mutually exclusive"):
        BacktestConfig(size=Decimal(1), fraction=Decimal("0.1"))


def test_signal_frame_of_the_wrong_length_is_refused() -> None:
    class Short(Scripted):
        def signals(self, candles: object) -> SignalFrame | None:
            return super().signals(_candles(3))

    with pytest.raises(ConfigError, match="3 signals"):
        run_backtest(_candles(), Short(script=""), CONFIG)


class BarByBarEmaCross(EmaCross):
    """ema_cross without its vectorised form: the engine must walk it bar by bar."""

    def signals(self, candles: object) -> SignalFrame | None:
        return None


@pytest.mark.parametrize(
    "name", ["kraken_XBT-USDT_1m.csv.gz", "binance-usdm_XRP-USDT-PERP_5m.csv.gz"]
)
def test_ema_cross_on_real_data_is_the_same_through_both_walks(
    bundled_data_dir: Path, name: str
) -> None:
    candles = read_candles(bundled_data_dir / name)
    config = BacktestConfig(cash=Decimal(100_000), fee_bps=Decimal(10), size=Decimal("0.001"))
    fast = run_backtest(candles, create_strategy("ema_cross", {"fast": 12, "slow": 26}), config)
    slow = run_backtest(candles, BarByBarEmaCross(fast=12, slow=26), config)
    assert fast.trades > 10
    assert fast.fills == slow.fills
    assert np.array_equal(fast.equity, slow.equity)
    assert fast.to_json()["final_equity"] == slow.to_json()["final_equity"]
    assert fast.symbol == candles.symbol
    again = run_backtest(candles, create_strategy("ema_cross", {"fast": 12, "slow": 26}), config)
    assert again.fills == fast.fills  # deterministic
