"""Snapshots (state/restore), reset, one symbol per instance, and the lazy Decision."""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest

from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision
from aegis.strategies import EmaAdxTrend, EmaCross, LazyDecision, MeanReversion

from .helpers import random_walk, rows


@pytest.mark.parametrize("factory", [EmaCross, EmaAdxTrend, MeanReversion])
def test_restore_continues_exactly_like_the_uninterrupted_run(factory: type) -> None:
    bars = rows(random_walk(4000, seed=5))
    reference = factory()
    expected = [reference.on_candle(bar, "BTC/USDT") for bar in bars]
    first = factory()
    for bar in bars[:2500]:
        first.on_candle(bar, "BTC/USDT")
    snapshot = json.loads(json.dumps(first.state(), allow_nan=False))
    second = factory()
    second.restore(snapshot)
    resumed = [second.on_candle(bar, "BTC/USDT") for bar in bars[2500:]]
    assert [d.action for d in resumed] == [d.action for d in expected[2500:]]
    assert [d.thought for d in resumed] == [d.thought for d in expected[2500:]]


def test_restore_rejects_a_foreign_snapshot() -> None:
    state = EmaCross().state()
    with pytest.raises(ConfigError, match="differ"):
        EmaCross(fast=5).restore(state)
    with pytest.raises(ConfigError, match="snapshot of strategy 'ema_cross'"):
        MeanReversion().restore(state)


def test_reset_starts_a_new_warm_up_and_one_instance_follows_one_symbol() -> None:
    bars = rows(random_walk(40, seed=2))
    strategy = EmaCross(fast=2, slow=4)
    first = [strategy.on_candle(bar, "BTC/USDT") for bar in bars]
    with pytest.raises(ConfigError, match="create one strategy per symbol"):
        strategy.on_candle(bars[0], "ETH/USDT")
    strategy.reset()
    again = [strategy.on_candle(bar, "ETH/USDT") for bar in bars]
    assert [d.thought for d in again] == [d.thought for d in first]


def test_lazy_decision_behaves_like_a_decision() -> None:
    bars = rows(random_walk(60, seed=4))
    strategy = EmaCross(fast=2, slow=4)
    lazy = [strategy.on_candle(bar, "BTC/USDT") for bar in bars][-1]
    assert isinstance(lazy, LazyDecision)
    assert isinstance(lazy, Decision)
    plain = lazy.to_decision()
    assert type(plain) is Decision
    assert lazy == plain
    assert plain == lazy
    assert pickle.loads(pickle.dumps(lazy)) == plain  # noqa: S301  # our own bytes
    changed = dataclasses.replace(lazy, strength=0.5)
    assert changed.strength == 0.5
    assert changed.thought == lazy.thought
    assert "LazyDecision(" in repr(lazy)
    json.dumps(dataclasses.asdict(plain) | {"action": int(Action.HOLD)}, allow_nan=False)
