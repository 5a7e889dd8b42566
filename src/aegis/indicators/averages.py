"""Vectorised moving averages and bands: SMA, EMA, Bollinger, Keltner, MACD, VWAP.

All functions take float64 arrays (anything ``np.asarray`` accepts) and return arrays of the same
length, NaN during warm-up. A bar where an input is NaN or infinite is skipped: its output is NaN
and the computation continues from the last valid bar (see ``_common``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from aegis.indicators._common import (
    FloatArray,
    as_float_array,
    as_float_arrays,
    check_factor,
    check_period,
    nan_array,
    on_valid_bars,
    recursive_filter,
    rolling_sum,
    valid_mask,
)
from aegis.indicators._types import BollingerBands, KeltnerChannels, Macd
from aegis.indicators.oscillators import atr_raw

# Rows per block in the exact two-pass standard deviation: bounds the temporary to ~10 MB.
_STD_BLOCK_ROWS = 65_536


def _sma_raw(values: FloatArray, period: int) -> FloatArray:
    return rolling_sum(values, period) / period


def _ema_raw(values: FloatArray, period: int, seed_end: int | None = None) -> FloatArray:
    """EMA seeded with the SMA of the ``period`` values ending at ``seed_end`` (TA-Lib)."""
    end = period - 1 if seed_end is None else seed_end
    if len(values) <= end:
        return nan_array(len(values))
    # sequential sum, as TA-Lib seeds it, so the streaming form reproduces it exactly
    seed = sum(values[end - period + 1 : end + 1].tolist()) / period
    alpha = 2.0 / (period + 1)
    return recursive_filter(values, 1.0 - alpha, alpha, end, seed)


def sma(close: object, period: int = 30) -> FloatArray:
    """Simple moving average; first value at bar ``period - 1`` (TA-Lib SMA)."""
    n = check_period("period", period)
    values = as_float_array("close", close)
    return on_valid_bars(lambda x: (_sma_raw(x, n),), values)[0]


def ema(close: object, period: int = 30) -> FloatArray:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA of the first
    ``period`` values (TA-Lib EMA); first value at bar ``period - 1``."""
    n = check_period("period", period)
    values = as_float_array("close", close)
    return on_valid_bars(lambda x: (_ema_raw(x, n),), values)[0]


def _rolling_pstd(values: FloatArray, mean: FloatArray, period: int) -> FloatArray:
    """Population standard deviation per window, two-pass (no E[x²] - E[x]² cancellation)."""
    out = nan_array(len(values))
    if len(values) < period:
        return out
    windows = sliding_window_view(values, period)
    means = mean[period - 1 :]
    result = out[period - 1 :]
    for start in range(0, len(windows), _STD_BLOCK_ROWS):
        stop = start + _STD_BLOCK_ROWS
        deviations = windows[start:stop] - means[start:stop, None]
        result[start:stop] = np.sqrt(np.einsum("ij,ij->i", deviations, deviations) / period)
    return out


def bollinger(close: object, period: int = 20, num_std: float = 2.0) -> BollingerBands[FloatArray]:
    """Bollinger bands: SMA(period) ± num_std · population std over the same window
    (TA-Lib BBANDS with nbdevup = nbdevdn = num_std, matype SMA)."""
    n = check_period("period", period)
    k = check_factor("num_std", num_std)
    values = as_float_array("close", close)

    def compute(x: FloatArray) -> tuple[FloatArray, ...]:
        middle = _sma_raw(x, n)
        width = k * _rolling_pstd(x, middle, n)
        return middle + width, middle, middle - width

    upper, middle, lower = on_valid_bars(compute, values)
    return BollingerBands(upper, middle, lower)


def keltner(
    high: object,
    low: object,
    close: object,
    period: int = 20,
    atr_period: int = 10,
    multiplier: float = 2.0,
) -> KeltnerChannels[FloatArray]:
    """Keltner channels: middle = EMA(close, period); bands = middle ± multiplier · ATR(atr_period).

    The middle line starts at bar ``period - 1``, the bands at ``max(period - 1, atr_period)``.
    A bar is skipped when any of high, low, close is not finite.
    """
    n = check_period("period", period)
    n_atr = check_period("atr_period", atr_period)
    m = check_factor("multiplier", multiplier)
    arrays = as_float_arrays(high=high, low=low, close=close)

    def compute(h: FloatArray, lo: FloatArray, c: FloatArray) -> tuple[FloatArray, ...]:
        middle = _ema_raw(c, n)
        width = m * atr_raw(h, lo, c, n_atr)
        return middle + width, middle, middle - width

    upper, middle, lower = on_valid_bars(compute, *arrays)
    return KeltnerChannels(upper, middle, lower)


def _check_macd_periods(fast_period: int, slow_period: int, signal_period: int) -> tuple[int, ...]:
    fast = check_period("fast_period", fast_period)
    slow = check_period("slow_period", slow_period, minimum=2)
    signal = check_period("signal_period", signal_period)
    if fast >= slow:
        raise ValueError(
            f"fast_period must be < slow_period, got fast_period={fast}, slow_period={slow}"
        )
    return fast, slow, signal


def macd(
    close: object, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9
) -> Macd[FloatArray]:
    """TA-Lib MACD: both EMAs are seeded at bar ``slow_period - 1`` (the fast one with the SMA of
    the ``fast_period`` values ending there), signal = EMA(macd, signal_period).

    The macd line starts at bar ``slow_period - 1``; signal and hist at
    ``slow_period + signal_period - 2`` (where TA-Lib starts all three).
    """
    fast, slow, signal = _check_macd_periods(fast_period, slow_period, signal_period)
    values = as_float_array("close", close)

    def compute(x: FloatArray) -> tuple[FloatArray, ...]:
        line = _ema_raw(x, fast, seed_end=slow - 1) - _ema_raw(x, slow)
        signal_line = nan_array(len(x))
        if len(x) >= slow:
            signal_line[slow - 1 :] = _ema_raw(line[slow - 1 :], signal)
        return line, signal_line, line - signal_line

    line, signal_line, hist = on_valid_bars(compute, values)
    return Macd(line, signal_line, hist)


def _session_starts(ts_ms: FloatArray, anchor_ms: int) -> FloatArray:
    session = np.floor_divide(ts_ms, anchor_ms)
    starts = np.empty(len(session), dtype=bool)
    if len(session):
        starts[0] = True
        starts[1:] = session[1:] != session[:-1]
    return starts.astype(np.float64)


def vwap(
    high: object,
    low: object,
    close: object,
    volume: object,
    ts_ms: object | None = None,
    *,
    anchor_ms: int | None = None,
) -> FloatArray:
    """Volume-weighted average of the typical price (high + low + close) / 3.

    Cumulative from the first bar, or reset at each ``anchor_ms`` boundary of ``ts_ms`` (UTC
    epoch milliseconds; ``anchor_ms=86_400_000`` = daily VWAP from 00:00 UTC). A bar with a
    non-finite input (e.g. an empty volume) is skipped; the value is NaN while the session's
    cumulative volume is zero (no traded volume means no volume-weighted price).
    """
    arrays = as_float_arrays(high=high, low=low, close=close, volume=volume)
    if anchor_ms is not None:
        anchor = check_period("anchor_ms", anchor_ms)
        if ts_ms is None:
            raise ValueError("vwap: anchor_ms needs ts_ms (the bars' open times in UTC ms)")
        (stamps,) = as_float_arrays(ts_ms=np.asarray(ts_ms, dtype=np.int64))
        if len(stamps) != len(arrays[0]):
            raise ValueError(f"ts_ms has {len(stamps)} values but high has {len(arrays[0])}")
        arrays.append(_session_starts(stamps, anchor))
    else:
        arrays.append(np.zeros(len(arrays[0])))
    mask = valid_mask(*arrays[:4])
    if mask is not None:
        # a reset on a skipped bar must survive: move it to the next valid bar
        session_marks = np.cumsum(arrays[4])
        arrays = [a[mask] for a in arrays[:4]]
        kept = session_marks[mask]
        starts = np.empty(len(kept))
        if len(kept):
            starts[0] = 1.0
            starts[1:] = kept[1:] != kept[:-1]
        arrays.append(starts)
    result = _vwap_raw(*arrays)
    if mask is None:
        return result
    full = nan_array(len(mask))
    full[mask] = result
    return full


def _vwap_raw(
    h: FloatArray, lo: FloatArray, c: FloatArray, v: FloatArray, starts: FloatArray
) -> FloatArray:
    weighted = (h + lo + c) / 3.0 * v
    boundaries = np.flatnonzero(starts)[1:]
    if len(boundaries):
        # one cumsum per session (a few per day at most): restarting the sum, instead of
        # subtracting the total before the session, keeps tiny sessions after huge ones exact
        weighted = np.concatenate([np.cumsum(part) for part in np.split(weighted, boundaries)])
        volume = np.concatenate([np.cumsum(part) for part in np.split(v, boundaries)])
    else:
        weighted = np.cumsum(weighted)
        volume = np.cumsum(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(volume != 0.0, weighted / volume, np.nan)
