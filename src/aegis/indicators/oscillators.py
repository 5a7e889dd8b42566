"""Vectorised Wilder-smoothed and range indicators: RSI, ATR, ADX, stochastic (TA-Lib exact).

Wilder's smoothing ``avg = (avg · (n - 1) + x) / n`` is an IIR filter, run through
LAPACK (see ``_common.recursive_filter``); nothing here loops in Python over bars.
"""

from __future__ import annotations

import numpy as np

from aegis.indicators._common import (
    FloatArray,
    as_float_array,
    as_float_arrays,
    check_period,
    nan_array,
    on_valid_bars,
    recursive_filter,
    rolling_max,
    rolling_min,
    rolling_sum,
    true_range,
)
from aegis.indicators._types import Stochastic

# TA-Lib's TA_IS_ZERO threshold (ta_utility.h): sums below it count as zero in RSI and ADX.
TALIB_ZERO = 1e-14


def _wilder(values: FloatArray, period: int, start: int, seed: float) -> FloatArray:
    return recursive_filter(values, (period - 1) / period, 1.0 / period, start, seed)


def _rsi_raw(x: FloatArray, n: int) -> FloatArray:
    if len(x) <= n:
        return nan_array(len(x))
    diff = np.empty(len(x))
    diff[0] = 0.0
    diff[1:] = x[1:] - x[:-1]
    gains = np.where(diff > 0.0, diff, 0.0)
    losses = np.where(diff < 0.0, -diff, 0.0)
    gain = _wilder(gains, n, n, sum(gains[1 : n + 1].tolist()) / n)
    loss = _wilder(losses, n, n, sum(losses[1 : n + 1].tolist()) / n)
    total = gain + loss
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.abs(total) < TALIB_ZERO, 0.0, 100.0 * (gain / total))
    out[:n] = np.nan
    return out


def rsi(close: object, period: int = 14) -> FloatArray:
    """Relative strength index (TA-Lib RSI): Wilder averages of gains and losses seeded with the
    mean of the first ``period`` changes; first value at bar ``period``. 0 when both averages are
    zero (TA-Lib's rule for a flat series)."""
    n = check_period("period", period)
    values = as_float_array("close", close)
    return on_valid_bars(lambda x: (_rsi_raw(x, n),), values)[0]


def atr_raw(h: FloatArray, lo: FloatArray, c: FloatArray, n: int) -> FloatArray:
    """ATR on already-validated arrays (also used by Keltner)."""
    if len(c) <= n:
        return nan_array(len(c))
    tr = true_range(h, lo, c)
    return _wilder(tr, n, n, sum(tr[1 : n + 1].tolist()) / n)


def atr(high: object, low: object, close: object, period: int = 14) -> FloatArray:
    """Average true range (TA-Lib ATR): first value at bar ``period`` = mean of the true ranges
    of bars 1..period, then Wilder smoothing."""
    n = check_period("period", period)
    arrays = as_float_arrays(high=high, low=low, close=close)
    return on_valid_bars(lambda h, lo, c: (atr_raw(h, lo, c, n),), *arrays)[0]


def _directional_movement(h: FloatArray, lo: FloatArray) -> tuple[FloatArray, FloatArray]:
    """+DM and -DM per bar (0 at bar 0), TA-Lib's tie rules."""
    up = np.zeros(len(h))
    down = np.zeros(len(h))
    up[1:] = h[1:] - h[:-1]
    down[1:] = lo[:-1] - lo[1:]
    plus = np.where((up > 0.0) & (up > down), up, 0.0)
    minus = np.where((down > 0.0) & (up < down), down, 0.0)
    return plus, minus


def _wilder_sum(values: FloatArray, n: int) -> FloatArray:
    """TA-Lib's running Wilder sum: bar n-1 = sum of bars 1..n-1, then s - s/n + v."""
    return recursive_filter(values, (n - 1) / n, 1.0, n - 1, sum(values[1:n].tolist()))


def _adx_raw(h: FloatArray, lo: FloatArray, c: FloatArray, n: int) -> FloatArray:
    size = len(c)
    first = 2 * n - 1
    if size <= first:
        return nan_array(size)
    plus_dm, minus_dm = _directional_movement(h, lo)
    tr = true_range(h, lo, c)
    tr[0] = 0.0
    tr_sum = _wilder_sum(tr, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        minus_di = 100.0 * (_wilder_sum(minus_dm, n) / tr_sum)
        plus_di = 100.0 * (_wilder_sum(plus_dm, n) / tr_sum)
        di_sum = minus_di + plus_di
        dx = 100.0 * (np.abs(minus_di - plus_di) / di_sum)
    # TA-Lib leaves ADX unchanged on a bar whose smoothed TR or DI sum is zero
    has_dx = (np.abs(tr_sum) >= TALIB_ZERO) & (np.abs(di_sum) >= TALIB_ZERO)
    seed = sum(np.where(has_dx[n : first + 1], dx[n : first + 1], 0.0).tolist()) / n
    out = nan_array(size)
    out[first] = seed
    later = np.flatnonzero(has_dx[first + 1 :]) + first + 1
    if len(later):
        filtered = _wilder(np.concatenate(([seed], dx[later])), n, 0, seed)
        out[later] = filtered[1:]
        # carry the last value over the skipped bars (forward fill)
        filled = np.where(np.isnan(out), 0, np.arange(size))
        filled[: first + 1] = first
        out[first:] = out[np.maximum.accumulate(filled)][first:]
    else:
        out[first:] = seed
    return out


def adx(high: object, low: object, close: object, period: int = 14) -> FloatArray:
    """Average directional index (TA-Lib ADX); first value at bar ``2 · period - 1``."""
    n = check_period("period", period)
    arrays = as_float_arrays(high=high, low=low, close=close)
    return on_valid_bars(lambda h, lo, c: (_adx_raw(h, lo, c, n),), *arrays)[0]


def _stochastic_raw(
    h: FloatArray, lo: FloatArray, c: FloatArray, fastk: int, slowk: int, slowd: int
) -> tuple[FloatArray, FloatArray]:
    highest = rolling_max(h, fastk)
    lowest = rolling_min(lo, fastk)
    scale = (highest - lowest) / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        fast_k = np.where(scale != 0.0, (c - lowest) / scale, 0.0)
    k = nan_array(len(c))
    d = nan_array(len(c))
    if len(c) >= fastk:
        k[fastk - 1 :] = rolling_sum(fast_k[fastk - 1 :], slowk) / slowk
        start = fastk + slowk - 2
        if len(c) > start:
            d[start:] = rolling_sum(k[start:], slowd) / slowd
    return k, d


def stochastic(
    high: object,
    low: object,
    close: object,
    fastk_period: int = 5,
    slowk_period: int = 3,
    slowd_period: int = 3,
) -> Stochastic[FloatArray]:
    """TA-Lib STOCH with SMA smoothing: fast %K = 100 · (close - lowest low) / (highest high -
    lowest low) over ``fastk_period`` (0 when the range is 0), k = SMA(fast %K, slowk_period),
    d = SMA(k, slowd_period). k starts at bar ``fastk + slowk - 2``, d at
    ``fastk + slowk + slowd - 3`` (TA-Lib starts both there)."""
    fastk = check_period("fastk_period", fastk_period)
    slowk = check_period("slowk_period", slowk_period)
    slowd = check_period("slowd_period", slowd_period)
    arrays = as_float_arrays(high=high, low=low, close=close)
    k, d = on_valid_bars(lambda h, lo, c: _stochastic_raw(h, lo, c, fastk, slowk, slowd), *arrays)
    return Stochastic(k, d)
