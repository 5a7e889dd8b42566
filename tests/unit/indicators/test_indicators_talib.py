"""The vectorised indicators reproduce TA-Lib on real candle files."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from aegis.indicators import adx, atr, bollinger, ema, macd, rsi, sma, stochastic

from ._support import Ohlcv, assert_agree

PERIODS = (2, 5, 14, 26)
SMA_TYPE = talib.MA_Type.SMA  # type: ignore[attr-defined]


@pytest.mark.parametrize("period", PERIODS)
def test_price_level_indicators_match_talib(real_ohlcv: Ohlcv, period: int) -> None:
    h, lo, c = real_ohlcv["high"], real_ohlcv["low"], real_ohlcv["close"]
    assert_agree(sma(c, period), talib.SMA(c, period), label="SMA")
    assert_agree(ema(c, period), talib.EMA(c, period), label="EMA")
    assert_agree(atr(h, lo, c, period), talib.ATR(h, lo, c, period), label="ATR")
    ours = bollinger(c, period, 2.5)
    theirs = talib.BBANDS(c, period, 2.5, 2.5, SMA_TYPE)
    for name, mine, reference in zip(("upper", "middle", "lower"), ours, theirs, strict=True):
        assert_agree(mine, reference, label=f"BBANDS {name}")


@pytest.mark.parametrize("period", PERIODS)
def test_wilder_oscillators_match_talib(real_ohlcv: Ohlcv, period: int) -> None:
    h, lo, c = real_ohlcv["high"], real_ohlcv["low"], real_ohlcv["close"]
    assert assert_agree(rsi(c, period), talib.RSI(c, period), label="RSI") > 0
    assert assert_agree(adx(h, lo, c, period), talib.ADX(h, lo, c, period), label="ADX") > 0


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (3, 10, 16), (5, 6, 2)])
def test_macd_matches_talib_where_talib_is_defined(
    real_ohlcv: Ohlcv, fast: int, slow: int, signal: int
) -> None:
    c = real_ohlcv["close"]
    ours = macd(c, fast, slow, signal)
    theirs = talib.MACD(c, fast, slow, signal)
    # The MACD line is a difference of two price-level EMAs: near a crossing it is ~0 and its
    # own relative error is meaningless, so the tolerance is relative to the price level.
    for name, mine, reference in zip(("macd", "signal", "hist"), ours, theirs, strict=True):
        assert_agree(mine, reference, scale=c, same_nan=False, label=f"MACD {name}")
    # warm-up: TA-Lib starts all three at slow + signal - 2; our line is defined from slow - 1
    assert np.isnan(theirs[0]).sum() == slow + signal - 2
    assert np.isnan(ours.macd).sum() == slow - 1
    assert np.isnan(ours.signal).sum() == np.isnan(ours.hist).sum() == slow + signal - 2


@pytest.mark.parametrize(("fastk", "slowk", "slowd"), [(5, 3, 3), (14, 3, 3), (9, 1, 4)])
def test_stochastic_matches_talib(real_ohlcv: Ohlcv, fastk: int, slowk: int, slowd: int) -> None:
    h, lo, c = real_ohlcv["high"], real_ohlcv["low"], real_ohlcv["close"]
    k, d = stochastic(h, lo, c, fastk, slowk, slowd)
    talib_k, talib_d = talib.STOCH(h, lo, c, fastk, slowk, SMA_TYPE, slowd, SMA_TYPE)
    # TA-Lib's running-sum SMA leaves ~1e-13 residues where the exact %K is 0 (a close at the
    # window low for slowk bars), so the bound is relative to the 0..100 range of %K.
    assert_agree(k, talib_k, scale=100.0, same_nan=False, label="STOCH k")
    assert_agree(d, talib_d, scale=100.0, label="STOCH d")
    assert np.isnan(talib_k).sum() == fastk + slowk + slowd - 3
    assert np.isnan(k).sum() == fastk + slowk - 2


def test_leading_nan_is_skipped_like_talib(real_ohlcv: Ohlcv) -> None:
    h, lo, c = (real_ohlcv[name][:2000].copy() for name in ("high", "low", "close"))
    for array in (h, lo, c):
        array[:7] = np.nan
    assert_agree(ema(c, 10), talib.EMA(c, 10), label="EMA")
    assert_agree(rsi(c, 14), talib.RSI(c, 14), label="RSI")
    assert_agree(atr(h, lo, c, 14), talib.ATR(h, lo, c, 14), label="ATR")
    assert_agree(adx(h, lo, c, 14), talib.ADX(h, lo, c, 14), label="ADX")


def test_flat_series_follows_talib_zero_rules() -> None:
    flat = np.full(60, 1.5)
    assert_agree(rsi(flat, 14), talib.RSI(flat, 14), label="RSI flat")
    assert_agree(adx(flat, flat, flat, 5), talib.ADX(flat, flat, flat, 5), label="ADX flat")
    k, d = stochastic(flat, flat, flat)
    talib_k, talib_d = talib.STOCH(flat, flat, flat, 5, 3, SMA_TYPE, 3, SMA_TYPE)
    assert_agree(k, talib_k, same_nan=False, label="STOCH k flat")
    assert_agree(d, talib_d, label="STOCH d flat")
    upper, middle, lower = bollinger(flat, 20)
    assert np.array_equal(upper[19:], middle[19:])
    assert np.array_equal(lower[19:], middle[19:])
