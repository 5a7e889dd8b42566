"""``confluence`` as a strategy: run member strategies on the same candles and combine them.

A member's vote on a bar is its own decision when actionable; otherwise its last actionable
decision while that is at most ``max_age_ms`` old (so members that fire a few bars apart can
agree); otherwise its HOLD. ``max_age_ms=0`` counts only signals of the current bar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np

from aegis.model.candle import Candle
from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision

from ._params import Param
from .base import CandleArrays, SignalFrame, Strategy
from .confluence import _ACTIONS, _PREFERENCE, Confluence, TieRule
from .registry import get_strategy, register_strategy


@register_strategy
class ConfluenceStrategy(Strategy):
    """Weighted vote of member strategies (each with its default or given parameters)."""

    name: ClassVar[str] = "confluence"
    description: ClassVar[str] = "weighted vote of several strategies"
    parameters: ClassVar[Mapping[str, Param]] = {
        "members": Param("ema_cross,momentum", description="comma-separated strategy names"),
        "weights": Param("", description="comma-separated weights, one per member (default 1)"),
        "tie_rule": Param("hold", choices=tuple(rule.value for rule in TieRule)),
        "min_agreement": Param(0.5, minimum=1e-9, maximum=1.0, description="share of weight"),
        "max_age_ms": Param(0, minimum=0, description="how long a member's signal stays a vote"),
    }

    def __init__(
        self,
        *,
        member_strategies: Sequence[Strategy] | None = None,
        **params: object,
    ) -> None:
        self._given_members = list(member_strategies or [])
        super().__init__(**params)

    def _configure(self) -> None:
        members = self._given_members or [
            get_strategy(name.strip())() for name in str(self.params["members"]).split(",")
        ]
        names = [member.name for member in members]
        if len(set(names)) != len(names) or not names:
            raise ConfigError(f"confluence: members {names} must be distinct and not empty")
        weights_text = str(self.params["weights"]).strip()
        weights = [1.0] * len(names) if not weights_text else _parse_weights(weights_text)
        if len(weights) != len(names):
            raise ConfigError(
                f"confluence: weights={weights_text!r} gives {len(weights)} weights for "
                f"{len(names)} members ({', '.join(names)})"
            )
        self.members = members
        self.confluence = Confluence(
            dict(zip(names, weights, strict=True)),
            tie_rule=str(self.params["tie_rule"]),
            min_agreement=self._float("min_agreement"),
            max_age_ms=self._int("max_age_ms"),
        )
        self.warmup_bars = max(member.warmup_bars for member in members)

    def _reset(self) -> None:
        for member in self.members:
            member.reset()
        self._last_signal: dict[str, Decision] = {}

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        votes: dict[str, Decision] = {}
        last = self._last_signal
        confluence = self.confluence
        for member in self.members:
            decision = member.on_candle(candle, symbol)
            if decision.action is not Action.HOLD:
                last[member.name] = decision
            else:
                remembered = last.get(member.name)
                if remembered is not None and confluence.is_fresh(remembered.ts_ms, candle.ts_ms):
                    decision = remembered
            votes[member.name] = decision
        return confluence.combine(votes, symbol=symbol, ts_ms=candle.ts_ms)

    def signals(self, candles: CandleArrays) -> SignalFrame | None:
        """Vectorised vote when every member has a SignalFrame, else None (walk bar by bar)."""
        frames = [member.signals(candles) for member in self.members]
        if any(frame is None for frame in frames):
            return None
        ready = [frame for frame in frames if frame is not None]
        ts = np.asarray(candles.ts_ms, dtype=np.int64)
        n = len(ts)
        index = np.arange(n)
        max_age = self.confluence.max_age_ms
        vote_index = []
        tally = {action: np.zeros(n) for action in _ACTIONS}
        total = np.zeros(n)
        for member, frame in zip(self.members, ready, strict=True):
            last = np.maximum.accumulate(np.where(frame.action != 0, index, -1))
            remembered = (last >= 0) & (ts - ts[np.maximum(last, 0)] <= (max_age or 0))
            chosen = np.where(remembered, last, index)
            vote_index.append(chosen)
            weight = self.confluence.weights[member.name]
            votes = frame.action[chosen]
            total += weight
            for action in _ACTIONS:
                tally[action] += np.where(votes == int(action), weight, 0.0)
        action_codes, strength = self._vote_arrays(tally, total, ready, vote_index)
        confluence, members = self.confluence, self.members

        def explain(i: int) -> tuple[str, Mapping[str, object]]:
            votes = {
                member.name: frame.decision_at(int(chosen[i]), candles, "")
                for member, frame, chosen in zip(members, ready, vote_index, strict=True)
            }
            combined = confluence.combine(votes, symbol="", ts_ms=int(ts[i]))
            return combined.thought, combined.metadata

        return SignalFrame(action_codes, strength, self.name, explain)

    def _vote_arrays(
        self,
        tally: Mapping[Action, np.ndarray],
        total: np.ndarray,
        frames: Sequence[SignalFrame],
        vote_index: Sequence[np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(total)
        best = np.maximum.reduce([tally[action] for action in _ACTIONS])
        with np.errstate(divide="ignore", invalid="ignore"):
            agreement = np.where(total > 0, best / total, 0.0)
        eligible = (best > 0) & (agreement >= self.confluence.min_agreement)
        leaders = np.zeros(n, dtype=np.int8)
        for action in _ACTIONS:
            leaders += (tally[action] == best).astype(np.int8)
        rule = self.confluence.tie_rule
        order = _ACTIONS if rule is TieRule.HOLD else _preference(rule)
        action_codes = np.zeros(n, dtype=np.int8)
        for action in reversed(order):  # the first preference is written last and wins
            pick = eligible & (tally[action] == best)
            if rule is TieRule.HOLD:
                pick &= leaders == 1
            action_codes[pick] = int(action)
        support = np.zeros(n)
        for member, frame, chosen in zip(self.members, frames, vote_index, strict=True):
            weight = self.confluence.weights[member.name]
            agrees = (frame.action[chosen] == action_codes) & (action_codes != 0)
            support += np.where(agrees, weight * frame.strength[chosen], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            strength = np.where(action_codes != 0, np.minimum(1.0, support / total), 0.0)
        return action_codes, strength


def _preference(rule: TieRule) -> tuple[Action, ...]:
    return _PREFERENCE[rule.value]


def _parse_weights(text: str) -> list[float]:
    weights = []
    for item in text.split(","):
        try:
            weights.append(float(item))
        except ValueError as error:
            raise ConfigError(f"confluence: weight {item.strip()!r} is not a number") from error
    return weights
