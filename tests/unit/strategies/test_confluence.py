"""Confluence (ST2): weights, tie rule, minimum agreement, staleness, both forms."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision
from aegis.strategies import Confluence, ConfluenceStrategy, EmaCross, Momentum

from .helpers import random_walk, stream

NOW = 1_700_000_000_000


def vote(action: Action, name: str, ts_ms: int = NOW, strength: float = 1.0) -> Decision:
    return Decision("BTC/USDT", ts_ms, action, strength, "why", name, {})


@pytest.mark.parametrize(
    ("weights", "fragment"),
    [
        ({"a": math.nan}, "weight a=nan is not finite"),
        ({"a": math.inf}, "weight a=inf is not finite"),
        ({"a": 1.0, "b": -0.5}, "weight b=-0.5 is negative"),
        ({"a": 0.0, "b": 0}, "all weights are zero (a=0, b=0)"),
        ({"a": "1"}, "weight a='1' is not a number"),
        ({}, "weights are empty"),
    ],
)
def test_weights_are_validated_and_the_error_names_the_weight(
    weights: dict[str, float], fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Confluence(weights)
    assert fragment in str(caught.value)


def test_other_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="tie_rule 'coin'"):
        Confluence({"a": 1}, tie_rule="coin")
    with pytest.raises(ConfigError, match="min_agreement 0"):
        Confluence({"a": 1}, min_agreement=0)
    with pytest.raises(ConfigError, match="max_age_ms -1"):
        Confluence({"a": 1}, max_age_ms=-1)


def test_weighted_majority_wins_and_the_thought_explains_the_vote() -> None:
    confluence = Confluence({"a": 2.0, "b": 1.0, "c": 1.0}, min_agreement=0.5)
    combined = confluence.combine(
        {
            "a": vote(Action.ENTER_LONG, "a", strength=0.5),
            "b": vote(Action.EXIT_LONG, "b"),
            "c": vote(Action.HOLD, "c"),
        },
        symbol="BTC/USDT",
        ts_ms=NOW,
    )
    assert combined.action is Action.ENTER_LONG
    assert combined.strength == pytest.approx(2.0 * 0.5 / 4.0)
    assert combined.thought == (
        "ENTER_LONG: 50% of weight agrees (need 50%): a ENTER_LONG (w=2), "
        "b EXIT_LONG (w=1), c HOLD (w=1)"
    )
    json.dumps(dict(combined.metadata), allow_nan=False)


def test_minimum_agreement_counts_hold_voters() -> None:
    confluence = Confluence({"a": 1.0, "b": 1.0, "c": 1.0}, min_agreement=0.6)
    votes = {
        "a": vote(Action.ENTER_LONG, "a"),
        "b": vote(Action.HOLD, "b"),
        "c": vote(Action.HOLD, "c"),
    }
    combined = confluence.combine(votes, symbol="BTC/USDT", ts_ms=NOW)
    assert combined.action is Action.HOLD
    assert combined.thought.startswith("hold: best action has 33% of weight, below 60%")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("hold", Action.HOLD), ("long", Action.ENTER_LONG), ("short", Action.EXIT_LONG)],
)
def test_tie_rule_decides_an_even_split(rule: str, expected: Action) -> None:
    confluence = Confluence({"a": 1.0, "b": 1.0}, tie_rule=rule, min_agreement=0.5)
    votes = {"a": vote(Action.ENTER_LONG, "a"), "b": vote(Action.EXIT_LONG, "b")}
    combined = confluence.combine(votes, symbol="BTC/USDT", ts_ms=NOW)
    assert combined.action is expected
    if rule == "hold":
        assert "tie at 50% of weight, tie rule hold" in combined.thought


def test_stale_votes_are_ignored_and_said_so() -> None:
    confluence = Confluence({"a": 1.0, "b": 3.0}, min_agreement=0.5, max_age_ms=60_000)
    votes = {
        "a": vote(Action.ENTER_LONG, "a", ts_ms=NOW - 30_000),
        "b": vote(Action.EXIT_LONG, "b", ts_ms=NOW - 120_000),
    }
    combined = confluence.combine(votes, symbol="BTC/USDT", ts_ms=NOW)
    assert combined.action is Action.ENTER_LONG  # b outweighs a, but b is stale
    assert "b EXIT_LONG ignored as stale (120000 ms old)" in combined.thought
    assert "a ENTER_LONG (w=1, 30000 ms old)" in combined.thought
    assert combined.metadata["stale"] == ["b"]
    every_vote_stale = confluence.combine({"b": votes["b"]}, symbol="BTC/USDT", ts_ms=NOW)
    assert every_vote_stale.action is Action.HOLD
    assert every_vote_stale.thought.startswith("hold: no fresh vote")


def test_vote_from_an_unknown_member_is_an_error() -> None:
    with pytest.raises(ConfigError, match="vote from 'z' has no weight"):
        Confluence({"a": 1.0}).combine({"z": vote(Action.HOLD, "z")}, symbol="BTC/USDT", ts_ms=NOW)


@pytest.mark.parametrize("tie_rule", ["hold", "long", "short"])
@pytest.mark.parametrize("max_age_ms", [0, 5 * 60_000])
def test_confluence_strategy_streaming_equals_vectorised(tie_rule: str, max_age_ms: int) -> None:
    candles = random_walk(3000, seed=11)
    params = {"weights": "1,1", "tie_rule": tie_rule, "min_agreement": 0.5}
    members = [EmaCross(fast=3, slow=8), Momentum(bars=2, exit_bars=2)]

    def build() -> ConfluenceStrategy:
        fresh = [type(m)(**m.params) for m in members]
        return ConfluenceStrategy(member_strategies=fresh, max_age_ms=max_age_ms, **params)

    frame = build().signals(candles)
    assert frame is not None
    decisions = stream(build(), candles)
    actions = np.array([int(d.action) for d in decisions], dtype=np.int8)
    np.testing.assert_array_equal(actions, frame.action)
    np.testing.assert_allclose([d.strength for d in decisions], frame.strength)
    assert np.count_nonzero(frame.action) > 10
    for i in frame.actionable()[:30]:
        assert frame.decision_at(int(i), candles).thought == decisions[int(i)].thought
