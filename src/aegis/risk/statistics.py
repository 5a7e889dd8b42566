"""Trade statistics that refuse to answer on too little data (RK4).

Every function takes the net PnL of closed round trips (quote currency, fees included) and returns
a ``Statistic``: a value, or ``None`` with the reason. Below ``minimum`` round trips (default 30)
the reason is "not enough data": a Kelly fraction or a risk of ruin from 8 trades is noise that
looks like a number, and an operator would size real money on it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

DEFAULT_MINIMUM_ROUND_TRIPS: Final = 30
"""Round trips needed before a statistic is reported (RK4)."""

_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Statistic:
    """A statistic's value, or ``None`` and the reason it cannot be computed."""

    value: float | None
    reason: str | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.reason is None):
            raise ValueError(
                f"a Statistic has either a value or a reason, got value={self.value!r} "
                f"reason={self.reason!r}"
            )

    @property
    def is_available(self) -> bool:
        """Return True when the statistic has a value."""
        return self.value is not None

    def to_json(self) -> dict[str, float | str | None]:
        """Return ``{"value": ..., "reason": ...}`` (JSON-safe)."""
        return {"value": self.value, "reason": self.reason}


def not_enough_data(
    statistic: str, n: int, minimum: int, *, unit: str = "round trips"
) -> str | None:
    """Return the null reason for ``statistic`` when ``n < minimum``, else ``None``.

    Same wording as the backtest metrics, which sit above risk and cannot be imported here.
    """
    if minimum < 1:
        raise ValueError(f"minimum for {statistic} must be >= 1, got {minimum}")
    if n >= minimum:
        return None
    return f"not enough data: {n} {unit}, need at least {minimum} for {statistic}"


@dataclass(frozen=True, slots=True)
class WinLoss:
    """Win rate and payoff ratio (average win / average loss) of a set of round trips."""

    count: int
    win_rate: Decimal
    payoff_ratio: Decimal | None  # None: no losing round trip, the ratio is undefined


def win_loss(pnls: Sequence[Decimal]) -> WinLoss:
    """Split round trips into wins (PnL > 0) and the rest; a break-even trip is not a win."""
    wins = [pnl for pnl in pnls if pnl > _ZERO]
    losses = [-pnl for pnl in pnls if pnl < _ZERO]
    count = len(pnls)
    win_rate = Decimal(len(wins)) / count if count else _ZERO
    if not losses:
        return WinLoss(count, win_rate, None)
    average_loss = sum(losses, _ZERO) / len(losses)
    average_win = sum(wins, _ZERO) / len(wins) if wins else _ZERO
    return WinLoss(count, win_rate, average_win / average_loss)


def expectancy(pnls: Sequence[Decimal], *, minimum: int = DEFAULT_MINIMUM_ROUND_TRIPS) -> Statistic:
    """Return the mean net PnL per round trip (quote currency)."""
    reason = not_enough_data("expectancy", len(pnls), minimum)
    if reason is not None:
        return Statistic(None, reason)
    return Statistic(float(sum(pnls, _ZERO) / len(pnls)))


def kelly_decimal(
    pnls: Sequence[Decimal], *, minimum: int = DEFAULT_MINIMUM_ROUND_TRIPS
) -> tuple[Decimal | None, str | None]:
    """Return the full Kelly fraction ``p - (1 - p) / b`` as a Decimal, or None and why.

    ``p`` is the win rate and ``b`` the payoff ratio; the fraction may be negative (no edge).
    Without a losing round trip ``b`` is undefined and so is the fraction: the reason says so
    instead of claiming "bet everything". Decimal, because sizing multiplies money by it.
    """
    reason = not_enough_data("kelly", len(pnls), minimum)
    if reason is not None:
        return None, reason
    stats = win_loss(pnls)
    if stats.payoff_ratio is None:
        return None, "kelly undefined: no losing round trip, payoff ratio unknown"
    if stats.payoff_ratio == _ZERO:
        return Decimal(-1), None  # no winning trade at all: the edge is entirely negative
    return stats.win_rate - (1 - stats.win_rate) / stats.payoff_ratio, None


def kelly_fraction(
    pnls: Sequence[Decimal], *, minimum: int = DEFAULT_MINIMUM_ROUND_TRIPS
) -> Statistic:
    """Return the full Kelly fraction (see ``kelly_decimal``) as a ``Statistic``."""
    value, reason = kelly_decimal(pnls, minimum=minimum)
    return Statistic(None if value is None else float(value), reason)


def risk_of_ruin(
    pnls: Sequence[Decimal],
    capital: Decimal,
    *,
    ruin_fraction: float = 0.5,
    horizon: int = 500,
    paths: int = 2_000,
    seed: int = 0,
    minimum: int = DEFAULT_MINIMUM_ROUND_TRIPS,
) -> Statistic:
    """Return the probability that equity loses ``ruin_fraction`` of ``capital``.

    Monte Carlo bootstrap: ``paths`` sequences of ``horizon`` round trips drawn with replacement
    from ``pnls`` (seeded, so the answer is reproducible); a path is ruined the first time its
    equity falls to ``capital * (1 - ruin_fraction)`` or below. Resampling the real outcomes
    keeps their payoff distribution, which the closed-form formulas reduce to two numbers.
    """
    reason = not_enough_data("risk_of_ruin", len(pnls), minimum)
    if reason is not None:
        return Statistic(None, reason)
    if capital <= _ZERO:
        raise ValueError(f"capital for risk_of_ruin must be positive, got {capital}")
    if not 0 < ruin_fraction <= 1:
        raise ValueError(f"ruin_fraction must be in (0, 1], got {ruin_fraction}")
    if horizon < 1 or paths < 1:
        raise ValueError(f"horizon and paths must be >= 1, got {horizon} and {paths}")
    # floats inside the simulation: it estimates a probability, no money is booked
    outcomes = [float(pnl) for pnl in pnls]
    start = float(capital)
    floor = start * (1 - ruin_fraction)
    rng = random.Random(seed)  # noqa: S311 - a seeded simulation, not a secret
    ruined = 0
    for _ in range(paths):
        equity = start
        for outcome in rng.choices(outcomes, k=horizon):
            equity += outcome
            if equity <= floor:
                ruined += 1
                break
    return Statistic(ruined / paths)


def classic_risk_of_ruin(win_rate: float, capital_units: int) -> float:
    """Return ``((1 - edge) / (1 + edge)) ** units`` for even-money bets of one unit each.

    ``edge = 2 * win_rate - 1``; no edge (``win_rate <= 0.5``) means certain ruin. This is the
    textbook gambler's-ruin answer; ``risk_of_ruin`` is checked against it.
    """
    if not 0 <= win_rate <= 1:
        raise ValueError(f"win_rate must be in [0, 1], got {win_rate}")
    if capital_units < 1:
        raise ValueError(f"capital_units must be >= 1, got {capital_units}")
    edge = 2 * win_rate - 1
    if edge <= 0:
        return 1.0
    return math.pow((1 - edge) / (1 + edge), capital_units)
