"""Deterministic benchmark candles: a seeded geometric random walk of 1-minute bars.

Volatility is that of a liquid crypto pair: ~0.09 % per minute (about 3.4 % a day), so EMA
12/26 crosses about as often as it does on real BTC/USDT minutes (~36k crossings per million).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aegis.data import Candles, read_candles, write_parquet

BENCH_DIR = Path("build/bench")
CANDLES = 1_000_000
SEED = 20261126
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
MINUTE_MS = 60_000
SIGMA_PER_MINUTE = 0.0009


def generate(n: int = CANDLES, seed: int = SEED) -> Candles:
    """Return ``n`` one-minute candles; the same arrays for the same ``(n, seed)``."""
    rng = np.random.default_rng(seed)
    log_returns = rng.normal(0.0, SIGMA_PER_MINUTE, n)
    close = 30_000.0 * np.exp(np.cumsum(log_returns))
    open_ = np.empty(n)
    open_[0] = 30_000.0
    open_[1:] = close[:-1]
    # wicks: a half-normal excursion beyond the body on each side
    wick = np.abs(rng.normal(0.0, SIGMA_PER_MINUTE * 0.6, (2, n)))
    high = np.maximum(open_, close) * (1.0 + wick[0])
    low = np.minimum(open_, close) * (1.0 - wick[1])
    volume = rng.lognormal(mean=2.0, sigma=0.8, size=n)
    ts = START_MS + MINUTE_MS * np.arange(n, dtype=np.int64)
    return Candles(
        ts_ms=ts,
        open=np.round(open_, 2),
        high=np.round(high, 2),
        low=np.round(low, 2),
        close=np.round(close, 2),
        volume=np.round(volume, 6),
        symbol="BTC/USDT",
        timeframe_ms=MINUTE_MS,
    )


def bench_file(directory: Path = BENCH_DIR, n: int = CANDLES) -> Path:
    """Write the benchmark file once (Parquet) and return its path."""
    path = directory / f"bench_BTC-USDT_1m_{n}.parquet"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        candles = generate(n)
        # rounding to cents can put open/close outside the rounded wicks: widen them back
        high = np.maximum.reduce([candles.high, candles.open, candles.close])
        low = np.minimum.reduce([candles.low, candles.open, candles.close])
        fixed = Candles(
            ts_ms=candles.ts_ms, open=candles.open, high=high, low=low, close=candles.close,
            volume=candles.volume, symbol=candles.symbol, timeframe_ms=candles.timeframe_ms,
        )  # fmt: skip
        tmp = path.with_suffix(".tmp.parquet")
        write_parquet(fixed, tmp)
        tmp.replace(path)
    return path


def load(n: int = CANDLES) -> Candles:
    """Read the benchmark candles (writing the file first if needed)."""
    return read_candles(bench_file(n=n))
