"""Warm-up lengths, parameter validation, VWAP against pandas, NaN handling and speed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest

import aegis.indicators as ind

from ._support import Ohlcv, assert_agree

RNG = np.random.default_rng(42)
CLOSE = 100.0 * np.exp(np.cumsum(RNG.normal(0.0, 0.01, 300)))
HIGH = CLOSE * 1.01
LOW = CLOSE * 0.99


def leading_nans(values: np.ndarray) -> int:
    finite = np.flatnonzero(~np.isnan(values))
    return int(finite[0]) if len(finite) else len(values)


@pytest.mark.parametrize(
    ("compute", "expected"),
    [
        (lambda: ind.sma(CLOSE, 7), 6),
        (lambda: ind.ema(CLOSE, 7), 6),
        (lambda: ind.rsi(CLOSE, 7), 7),
        (lambda: ind.atr(HIGH, LOW, CLOSE, 7), 7),
        (lambda: ind.adx(HIGH, LOW, CLOSE, 7), 13),
        (lambda: ind.bollinger(CLOSE, 7).upper, 6),
        (lambda: ind.keltner(HIGH, LOW, CLOSE, 7, 10).middle, 6),
        (lambda: ind.keltner(HIGH, LOW, CLOSE, 7, 10).upper, 10),
        (lambda: ind.keltner(HIGH, LOW, CLOSE, 20, 10).lower, 19),
        (lambda: ind.macd(CLOSE, 5, 9, 4).macd, 8),
        (lambda: ind.macd(CLOSE, 5, 9, 4).signal, 11),
        (lambda: ind.stochastic(HIGH, LOW, CLOSE, 6, 3, 4).k, 7),
        (lambda: ind.stochastic(HIGH, LOW, CLOSE, 6, 3, 4).d, 10),
        (lambda: ind.vwap(HIGH, LOW, CLOSE, np.ones(300)), 0),
    ],
)
def test_warm_up_nan_count(compute: Callable[[], np.ndarray], expected: int) -> None:
    values = compute()
    assert leading_nans(values) == expected
    assert not np.isnan(values[expected:]).any()


def test_short_and_empty_inputs_are_all_nan() -> None:
    assert np.isnan(ind.ema(CLOSE[:4], 5)).all()
    assert np.isnan(ind.adx(HIGH[:9], LOW[:9], CLOSE[:9], 5)).all()
    assert len(ind.rsi(np.empty(0), 14)) == 0
    assert all(len(part) == 0 for part in ind.macd(np.empty(0)))


BAD_PERIODS = [0, -3, 2.5, True, "14", None]
FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sma": lambda p: ind.sma(CLOSE, period=p),
    "ema": lambda p: ind.ema(CLOSE, period=p),
    "rsi": lambda p: ind.rsi(CLOSE, period=p),
    "atr": lambda p: ind.atr(HIGH, LOW, CLOSE, period=p),
    "adx": lambda p: ind.adx(HIGH, LOW, CLOSE, period=p),
    "bollinger": lambda p: ind.bollinger(CLOSE, period=p),
    "keltner": lambda p: ind.keltner(HIGH, LOW, CLOSE, atr_period=p),
    "macd": lambda p: ind.macd(CLOSE, signal_period=p),
    "stochastic": lambda p: ind.stochastic(HIGH, LOW, CLOSE, slowd_period=p),
    "StreamingSma": lambda p: ind.StreamingSma(period=p),
    "StreamingEma": lambda p: ind.StreamingEma(period=p),
    "StreamingRsi": lambda p: ind.StreamingRsi(period=p),
    "StreamingAtr": lambda p: ind.StreamingAtr(period=p),
    "StreamingAdx": lambda p: ind.StreamingAdx(period=p),
    "StreamingBollinger": lambda p: ind.StreamingBollinger(period=p),
    "StreamingKeltner": lambda p: ind.StreamingKeltner(atr_period=p),
    "StreamingMacd": lambda p: ind.StreamingMacd(signal_period=p),
    "StreamingStochastic": lambda p: ind.StreamingStochastic(slowd_period=p),
    "StreamingVwap": lambda p: ind.StreamingVwap(anchor_ms=p if p is not None else 0),
}
PARAMETER_NAMES = {
    "keltner": "atr_period",
    "StreamingKeltner": "atr_period",
    "macd": "signal_period",
    "StreamingMacd": "signal_period",
    "stochastic": "slowd_period",
    "StreamingStochastic": "slowd_period",
    "StreamingVwap": "anchor_ms",
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("bad", BAD_PERIODS)
def test_invalid_period_names_parameter_and_value(name: str, bad: object) -> None:
    parameter = PARAMETER_NAMES.get(name, "period")
    with pytest.raises(ind.InvalidIndicatorParameter) as raised:
        FUNCTIONS[name](bad)
    message = str(raised.value)
    assert parameter in message
    assert repr(bad if name != "StreamingVwap" or bad is not None else 0) in message


def test_other_parameter_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="fast_period must be < slow_period"):
        ind.macd(CLOSE, 26, 12)
    with pytest.raises(ind.InvalidIndicatorParameter, match="num_std"):
        ind.bollinger(CLOSE, 20, -1.0)
    with pytest.raises(ind.InvalidIndicatorParameter, match="multiplier"):
        ind.StreamingKeltner(multiplier=float("nan"))
    with pytest.raises(ValueError, match="low has 299 values but high has 300"):
        ind.atr(HIGH, LOW[:-1], CLOSE)
    with pytest.raises(ValueError, match="anchor_ms needs ts_ms"):
        ind.vwap(HIGH, LOW, CLOSE, np.ones(300), anchor_ms=60_000)
    with pytest.raises(ValueError, match="ts_ms is required"):
        ind.StreamingVwap(anchor_ms=60_000).update(1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="one-dimensional"):
        ind.sma(np.ones((3, 3)), 2)


def test_daily_vwap_matches_pandas_groupby(ohlcv_loader: Any) -> None:
    data: Ohlcv = ohlcv_loader("ftx_BTC-PERP_1m.csv.gz")
    volume = data["volume"].copy()
    volume[::97] = np.nan  # empty volumes, as in some real files
    frame = pd.DataFrame(
        {
            "typical": (data["high"] + data["low"] + data["close"]) / 3.0,
            "volume": volume,
            "day": pd.to_datetime(data["timestamp_ms"], unit="ms", utc=True).floor("D"),
        }
    )
    valid = frame["volume"].notna()
    frame["pv"] = frame["typical"] * frame["volume"]
    grouped = frame[valid].groupby("day")
    expected = np.full(len(frame), np.nan)
    expected[valid.to_numpy()] = (grouped["pv"].cumsum() / grouped["volume"].cumsum()).to_numpy()
    ours = ind.vwap(
        data["high"], data["low"], data["close"], volume, data["timestamp_ms"], anchor_ms=86_400_000
    )
    assert assert_agree(ours, expected, label="daily VWAP") > 40_000


def test_vwap_is_nan_while_session_has_no_volume() -> None:
    values = ind.vwap([2.0, 3.0, 4.0], [1.0, 1.0, 1.0], [1.5, 2.0, 3.0], [0.0, np.nan, 2.0])
    assert np.isnan(values[0])  # zero volume so far: no price to report
    assert np.isnan(values[1])  # empty volume: bar skipped
    assert values[2] == pytest.approx((4.0 + 1.0 + 3.0) / 3.0)


def test_nan_bar_is_skipped_not_propagated() -> None:
    with_gap = CLOSE.copy()
    with_gap[100] = np.nan
    result = ind.ema(with_gap, 10)
    assert np.isnan(result[100])
    reference = ind.ema(np.delete(CLOSE, 100), 10)
    assert_agree(np.delete(result, 100), reference, label="EMA around a NaN bar")


def test_vectorised_ema_is_c_speed() -> None:
    values = 30_000.0 + np.cumsum(np.random.default_rng(1).normal(size=1_000_000))
    ind.ema(values, 26)
    started = time.perf_counter()
    ind.ema(values, 26)
    elapsed = time.perf_counter() - started
    # ~6 ms measured here; the generous bound only catches a Python loop (which takes ~300 ms)
    assert elapsed < 0.15, f"ema on 1M values took {elapsed * 1e3:.1f} ms"
