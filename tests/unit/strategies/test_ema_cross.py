"""ema_cross cross semantics on a hand-made series, and its speed."""

from __future__ import annotations

import time

import numpy as np

from aegis.indicators import ema
from aegis.model.signals import Action
from aegis.strategies import EmaCross

from .helpers import make_arrays, random_walk, stream


def _reference(close: np.ndarray, fast: int, slow: int) -> np.ndarray:
    """Independent loop over the written rule."""
    f, s = ema(close, fast), ema(close, slow)
    out = np.zeros(len(close), dtype=np.int8)
    for i in range(1, len(close)):
        if np.isnan(f[i - 1]) or np.isnan(s[i - 1]):
            continue
        if f[i - 1] <= s[i - 1] and f[i] > s[i]:
            out[i] = Action.ENTER_LONG
        elif f[i - 1] >= s[i - 1] and f[i] < s[i]:
            out[i] = Action.EXIT_LONG
    return out


def test_cross_fires_on_the_bar_the_fast_ema_moves_above_and_below() -> None:
    close = [10.0] * 6 + [11.0, 12.0, 13.0] + [9.0, 8.0, 7.0]
    candles = make_arrays(close)
    frame = EmaCross(fast=2, slow=4).signals(candles)
    fast, slow = ema(np.array(close), 2), ema(np.array(close), 4)
    # flat start: both EMAs equal 10 (equal counts as "at or below" for the next bar)
    assert fast[5] == slow[5] == 10.0
    assert frame.action[6] == Action.ENTER_LONG  # first bar with fast > slow
    assert frame.action[9] == Action.EXIT_LONG  # first bar with fast < slow
    assert np.count_nonzero(frame.action) == 2
    assert [int(d.action) for d in stream(EmaCross(fast=2, slow=4), candles)] == list(frame.action)


def test_no_cross_is_reported_before_both_emas_exist_at_the_previous_bar() -> None:
    # fast > slow from the very first defined slow value: not a cross (slow undefined at i-1)
    close = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    frame = EmaCross(fast=2, slow=3).signals(make_arrays(close))
    assert np.count_nonzero(frame.action) == 0


def test_touching_without_crossing_is_no_signal() -> None:
    close = [10.0] * 8 + [10.0, 10.0]
    frame = EmaCross(fast=2, slow=4).signals(make_arrays(close))
    assert np.count_nonzero(frame.action) == 0


def test_matches_an_independent_loop_on_a_random_walk() -> None:
    candles = random_walk(5000, seed=7)
    frame = EmaCross().signals(candles)
    np.testing.assert_array_equal(frame.action, _reference(candles.close, 12, 26))
    assert np.count_nonzero(frame.action) > 20


def test_hold_thoughts_explain_the_relation_of_the_emas() -> None:
    decisions = stream(EmaCross(fast=2, slow=4), make_arrays([10.0, 11.0, 12.0, 13.0, 12.5]))
    assert decisions[0].thought == "warming up: EMA4 needs 4 closes, have 1"
    assert decisions[4].action is Action.HOLD
    assert decisions[4].thought.startswith("no cross: EMA2 ")
    assert " above EMA4 " in decisions[4].thought


def test_vectorised_one_million_candles_is_fast() -> None:
    rng = np.random.default_rng(1)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, 1_000_000)))
    candles = make_arrays(close)
    strategy = EmaCross()
    strategy.signals(candles)  # warm caches
    started = time.perf_counter()
    frame = strategy.signals(candles)
    elapsed = time.perf_counter() - started
    assert len(frame) == 1_000_000
    assert elapsed < 0.5, f"signals() took {elapsed:.3f} s on 1M candles"


def test_streaming_is_lean() -> None:
    candles = random_walk(50_000, seed=3)
    from .helpers import rows

    bars = rows(candles)
    strategy = EmaCross()
    on_candle = strategy.on_candle
    started = time.perf_counter()
    for bar in bars:
        on_candle(bar, "TEST/USDT")
    rate = len(bars) / (time.perf_counter() - started)
    # shared 2-core machine: the budget is loose here; docs/strategies.md has the measurement
    assert rate > 100_000, f"on_candle ran at {rate:.0f} candles/s"
