"""Confluence (ST2): weighted votes of several strategies, a tie rule, a minimum agreement and
a staleness gate, explained in the combined Decision's thought."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum

from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision

from ._decision import lazy_decision

_PREFERENCE = {
    # bullish first for "long", bearish first for "short"
    "long": (Action.ENTER_LONG, Action.EXIT_SHORT, Action.EXIT_LONG, Action.ENTER_SHORT),
    "short": (Action.ENTER_SHORT, Action.EXIT_LONG, Action.EXIT_SHORT, Action.ENTER_LONG),
}
_ACTIONS = (Action.ENTER_LONG, Action.EXIT_LONG, Action.ENTER_SHORT, Action.EXIT_SHORT)


class TieRule(StrEnum):
    """What to do when two actions gather the same, highest weight."""

    HOLD = "hold"  # do nothing: the members disagree
    LONG = "long"  # take the bullish action (enter long, else exit short)
    SHORT = "short"  # take the bearish action (enter short, else exit long)


class Confluence:
    """Combine member Decisions into one Decision.

    Args:
        weights: member name -> weight; finite, >= 0, not all zero.
        tie_rule: ``hold`` | ``long`` | ``short`` (see :class:`TieRule`).
        min_agreement: share of the fresh weight (HOLD voters included) the winning action needs,
            in (0, 1].
        max_age_ms: a vote older than this, relative to the candle being decided, is ignored and
            named in the thought; ``None`` disables the gate.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        tie_rule: TieRule | str = TieRule.HOLD,
        min_agreement: float = 0.5,
        max_age_ms: int | None = None,
    ) -> None:
        self.weights = _validate_weights(weights)
        try:
            self.tie_rule = TieRule(tie_rule)
        except ValueError as error:
            rules = ", ".join(rule.value for rule in TieRule)
            raise ConfigError(f"confluence: tie_rule {tie_rule!r} is not one of {rules}") from error
        if not (isinstance(min_agreement, int | float) and 0.0 < min_agreement <= 1.0):
            raise ConfigError(f"confluence: min_agreement {min_agreement!r} must be in (0, 1]")
        self.min_agreement = float(min_agreement)
        if max_age_ms is not None and (isinstance(max_age_ms, bool) or max_age_ms < 0):
            raise ConfigError(f"confluence: max_age_ms {max_age_ms!r} must be >= 0 or None")
        self.max_age_ms = max_age_ms

    def is_fresh(self, vote_ts_ms: int, ts_ms: int) -> bool:
        """Whether a vote taken at ``vote_ts_ms`` still counts at ``ts_ms``."""
        age = ts_ms - vote_ts_ms
        return age >= 0 and (self.max_age_ms is None or age <= self.max_age_ms)

    def combine(self, votes: Mapping[str, Decision], *, symbol: str, ts_ms: int) -> Decision:
        """Return the combined Decision for the candle at ``ts_ms``.

        Raises:
            ConfigError: a vote from a member that has no weight.
        """
        tally = dict.fromkeys(_ACTIONS, 0.0)
        total = 0.0
        rows: list[tuple[str, Decision, float, bool]] = []
        for name, vote in votes.items():
            weight = self.weights.get(name)
            if weight is None:
                raise ConfigError(
                    f"confluence: vote from {name!r} has no weight; members: "
                    f"{', '.join(self.weights)}"
                )
            fresh = self.is_fresh(vote.ts_ms, ts_ms)
            rows.append((name, vote, weight, fresh))
            if fresh:
                total += weight
                if vote.action is not Action.HOLD:
                    tally[vote.action] += weight
        action, agreement = self.decide(tally, total)
        strength = 0.0
        if action is not Action.HOLD:
            support = sum(w * v.strength for _, v, w, fresh in rows if fresh and v.action is action)
            strength = min(1.0, support / total)
        args = (action, tuple(rows), tally, total, agreement, ts_ms, self)
        return lazy_decision(symbol, ts_ms, action, strength, "confluence", _render, args)

    def decide(self, tally: Mapping[Action, float], total: float) -> tuple[Action, float]:
        """Pick the action from the weight per action and the total fresh weight."""
        if total <= 0.0:
            return Action.HOLD, 0.0
        best = max(tally.values())
        if best <= 0.0:
            return Action.HOLD, 0.0
        agreement = best / total
        if agreement < self.min_agreement:
            return Action.HOLD, agreement
        leaders = [action for action in _ACTIONS if tally[action] == best]
        if len(leaders) == 1:
            return leaders[0], agreement
        if self.tie_rule is TieRule.HOLD:
            return Action.HOLD, agreement
        for action in _PREFERENCE[self.tie_rule.value]:
            if action in leaders:
                return action, agreement
        return Action.HOLD, agreement  # unreachable: leaders is a subset of the preference


def _validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    if not weights:
        raise ConfigError("confluence: weights are empty; give at least one member a weight")
    checked: dict[str, float] = {}
    for name, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ConfigError(f"confluence: weight {name}={weight!r} is not a number")
        if not math.isfinite(weight):
            raise ConfigError(f"confluence: weight {name}={weight!r} is not finite")
        if weight < 0:
            raise ConfigError(f"confluence: weight {name}={weight!r} is negative")
        checked[name] = float(weight)
    if not any(checked.values()):
        listed = ", ".join(f"{name}={weight:g}" for name, weight in checked.items())
        raise ConfigError(f"confluence: all weights are zero ({listed})")
    return checked


def _render(
    action: Action,
    rows: Sequence[tuple[str, Decision, float, bool]],
    tally: Mapping[Action, float],
    total: float,
    agreement: float,
    ts_ms: int,
    confluence: Confluence,
) -> tuple[str, Mapping[str, object]]:
    parts = []
    stale = []
    for name, vote, weight, fresh in rows:
        age = ts_ms - vote.ts_ms
        if not fresh:
            stale.append(f"{name} {vote.action.name} ignored as stale ({age} ms old)")
            continue
        when = f", {age} ms old" if age else ""
        parts.append(f"{name} {vote.action.name} (w={weight:g}{when})")
    need = f"{confluence.min_agreement:.0%}"
    if total <= 0.0:
        head = "hold: no fresh vote"
    elif action is not Action.HOLD:
        head = f"{action.name}: {agreement:.0%} of weight agrees (need {need})"
    elif max(tally.values()) <= 0.0:
        head = "hold: every fresh vote is HOLD"
    elif agreement < confluence.min_agreement:
        head = f"hold: best action has {agreement:.0%} of weight, below {need}"
    else:
        head = f"hold: tie at {agreement:.0%} of weight, tie rule {confluence.tie_rule.value}"
    thought = head + (": " + ", ".join(parts) if parts else "")
    if stale:
        thought += "; " + "; ".join(stale)
    metadata = {
        "agreement": agreement,
        "fresh_weight": total,
        "weights": {action.name: weight for action, weight in tally.items()},
        "votes": {name: vote.action.name for name, vote, _, _ in rows},
        "stale": [name for name, _, _, fresh in rows if not fresh],
    }
    return thought, metadata
