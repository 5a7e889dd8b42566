"""Momentum counts truly consecutive closes; candlestick patterns read the real opens."""

from __future__ import annotations

import numpy as np
import pytest

from aegis.model.signals import Action
from aegis.strategies import CandlestickReversal, Momentum

from .helpers import make_arrays, stream


def test_momentum_enters_after_exactly_n_consecutive_rising_closes() -> None:
    close = [10.0, 11.0, 12.0, 13.0, 14.0]
    frame = Momentum(bars=3).signals(make_arrays(close))
    assert list(frame.action) == [0, 0, 0, Action.ENTER_LONG, 0]  # once per streak


def test_a_single_down_bar_resets_the_count() -> None:
    # 4 of the last 5 closes rise, but never 3 in a row: the audited bot would have entered
    close = [10.0, 11.0, 12.0, 11.5, 12.5, 13.5, 13.0, 14.0, 15.0]
    candles = make_arrays(close)
    frame = Momentum(bars=3, exit_bars=5).signals(candles)
    assert np.count_nonzero(frame.action) == 0
    decisions = stream(Momentum(bars=3, exit_bars=5), candles)
    assert all(d.action is Action.HOLD for d in decisions)
    assert decisions[3].thought == "no signal: 1 of 5 falling closes in a row (close 11.5 < 12)"
    assert decisions[5].thought.startswith("no signal: 2 of 3 rising closes in a row")


def test_a_flat_close_also_breaks_the_streak() -> None:
    close = [10.0, 11.0, 12.0, 12.0, 13.0, 14.0, 15.0]
    frame = Momentum(bars=3).signals(make_arrays(close))
    assert list(np.flatnonzero(frame.action)) == [6]


def test_momentum_exit_and_short_rules() -> None:
    close = [10.0, 9.0, 8.0, 7.0]
    long_only = Momentum(bars=3, exit_bars=2).signals(make_arrays(close))
    assert list(long_only.action) == [0, 0, Action.EXIT_LONG, 0]
    shorts = Momentum(bars=3, exit_bars=2, allow_short=True).signals(make_arrays(close))
    assert list(shorts.action) == [0, 0, Action.EXIT_LONG, Action.ENTER_SHORT]
    # strength: a 30 % move is far beyond full_strength_pct=1
    assert shorts.strength[3] == 1.0


def test_bullish_engulfing_uses_the_real_open_not_the_previous_close() -> None:
    # bar 1 gaps up: its real open (10.5) is above the previous close (10.0), so its body
    # does NOT engulf bar 0's body; with "open = previous close" it would look engulfing.
    open_ = [11.0, 10.5]
    close = [10.0, 11.2]
    candles = make_arrays(close, open_)
    assert CandlestickReversal().signals(candles).action[1] == Action.HOLD
    assert stream(CandlestickReversal(), candles)[1].action is Action.HOLD
    fake = make_arrays(close, [11.0, 10.0])  # what a previous-close open would give
    assert CandlestickReversal().signals(fake).action[1] == Action.ENTER_LONG


def test_engulfing_patterns_on_real_opens() -> None:
    bullish = make_arrays([10.0, 11.5], [11.0, 9.8])
    decision = stream(CandlestickReversal(), bullish)[1]
    assert decision.action is Action.ENTER_LONG
    assert decision.thought == "enter long: bullish engulfing (real open)"
    bearish = make_arrays([11.0, 9.5], [10.0, 11.2])
    assert CandlestickReversal().signals(bearish).action[1] == Action.EXIT_LONG
    shorts = CandlestickReversal(allow_short=True).signals(bearish)
    assert shorts.action[1] == Action.ENTER_SHORT


def test_hammer_after_a_decline() -> None:
    close = [14.0, 13.0, 12.0, 11.0, 10.2]
    open_ = [14.5, 13.5, 12.5, 11.5, 10.0]
    high = [14.6, 13.6, 12.6, 11.6, 10.25]
    low = [13.9, 12.9, 11.9, 10.9, 9.0]
    candles = make_arrays(close, open_, high, low)
    frame = CandlestickReversal(trend_bars=3).signals(candles)
    assert frame.action[4] == Action.ENTER_LONG
    decision = stream(CandlestickReversal(trend_bars=3), candles)[4]
    assert decision.thought == "enter long: hammer (real open)"
    assert decision.strength == frame.strength[4]
    assert decision.strength == pytest.approx(1.0 / 1.25)  # lower shadow 1.0 of range 1.25
