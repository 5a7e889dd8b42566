"""Risk limits (RK1): exposure, open positions, daily loss, drawdown stop, loss cooldown.

Each rule is a small pure object or function returning ``None`` (allowed) or the reason it
refuses a new entry. Timestamps are passed in (``ts_ns``, UTC); nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from aegis.model.errors import ConfigError

if TYPE_CHECKING:
    from aegis.config import RiskLimitSettings

NS_PER_SECOND: Final = 1_000_000_000
NS_PER_DAY: Final = 86_400 * NS_PER_SECOND
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)


def _decimal(name: str, value: object) -> Decimal:
    if isinstance(value, float | bool):
        raise ConfigError(f"risk setting {name} must be a Decimal, str or int, not {value!r}")
    try:
        number = Decimal(value)  # type: ignore[arg-type]  # validated by the except below
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ConfigError(f"risk setting {name} must be a number, got {value!r}") from exc
    if not number.is_finite():
        raise ConfigError(f"risk setting {name} must be finite, got {value!r}")
    return number


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """Limits of one bot; fractions are of current equity (quote currency).

    Defaults are conservative: 25 % of equity per symbol, 100 % in total (no leverage beyond
    the account), 5 open positions, 5 % daily loss, 20 % drawdown stop, entries sized at 2 % of
    equity. The loss cooldown is off (``cooldown_losses=None``); set it (e.g. 3) to pause
    entries for ``cooldown_s`` after that many consecutive losing round trips.
    """

    max_symbol_exposure: Decimal = Decimal("0.25")
    max_total_exposure: Decimal = Decimal(1)
    max_open_positions: int = 5
    daily_loss_limit: Decimal = Decimal("0.05")
    max_drawdown: Decimal = Decimal("0.20")
    cooldown_losses: int | None = None
    cooldown_s: int = 3_600
    entry_fraction: Decimal = Decimal("0.02")

    def __post_init__(self) -> None:
        for name in ("max_symbol_exposure", "max_total_exposure"):
            value = _decimal(name, getattr(self, name))
            if value <= _ZERO:
                raise ConfigError(f"risk setting {name} must be > 0, got {value}")
            object.__setattr__(self, name, value)
        for name in ("daily_loss_limit", "max_drawdown", "entry_fraction"):
            value = _decimal(name, getattr(self, name))
            if not _ZERO < value <= _ONE:
                raise ConfigError(f"risk setting {name} must be in (0, 1], got {value}")
            object.__setattr__(self, name, value)
        for name in ("max_open_positions", "cooldown_losses", "cooldown_s"):
            value = getattr(self, name)
            if value is None and name == "cooldown_losses":
                continue  # the cooldown is off
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"risk setting {name} must be an integer >= 1, got {value!r}")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> RiskSettings:
        """Build from a config section (strings for decimals); unknown keys raise ConfigError."""
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"unknown risk settings {unknown}")
        return cls(**values)

    @property
    def cooldown_ns(self) -> int:
        """Return the cooldown duration in nanoseconds."""
        return self.cooldown_s * NS_PER_SECOND


#: the fields of the ``risk`` config section that are limits (the rest are breaker thresholds)
LIMIT_FIELDS: Final = (
    "max_symbol_exposure",
    "max_total_exposure",
    "max_open_positions",
    "daily_loss_limit",
    "max_drawdown",
    "cooldown_losses",
    "cooldown_s",
)


def limits_from_config(section: RiskLimitSettings) -> RiskSettings:
    """Return the limits of a ``risk`` config section (the same in a run and a backtest)."""
    return RiskSettings.from_mapping({name: getattr(section, name) for name in LIMIT_FIELDS})


def utc_day(ts_ns: int) -> int:
    """Return the UTC day number (days since the epoch) of ``ts_ns``."""
    return ts_ns // NS_PER_DAY


class EquityWatch:
    """Tracks the equity peak and the start-of-UTC-day equity for the loss rules.

    Daily PnL = equity now - equity first seen on this UTC day: it includes realised *and*
    unrealised PnL (equity values open positions at their marks). It resets at 00:00 UTC. The
    drawdown stop latches: a bounce of unrealised PnL does not silently re-enable entries;
    ``reset_drawdown`` (an operator action) does, and restarts the peak from current equity.
    """

    __slots__ = ("day", "day_start_equity", "drawdown_stop", "last_equity", "peak_equity")

    def __init__(self) -> None:
        self.day: int | None = None
        self.day_start_equity = _ZERO
        self.peak_equity = _ZERO
        self.last_equity = _ZERO
        self.drawdown_stop: str | None = None

    def observe(self, equity: Decimal, ts_ns: int) -> None:
        """Record equity at ``ts_ns``; the first value of a UTC day becomes its start."""
        day = ts_ns // NS_PER_DAY  # utc_day, inlined: this runs for every entry judged
        if self.day is None or day > self.day:
            self.day = day
            self.day_start_equity = equity
        if equity > self.peak_equity:
            self.peak_equity = equity
        self.last_equity = equity

    def daily_loss_reason(self, limit: Decimal) -> str | None:
        """Return why entries stop for the rest of the UTC day, or None."""
        start = self.day_start_equity
        if start <= _ZERO:
            return None
        loss = start - self.last_equity
        allowed = limit * start
        if loss >= allowed:
            return (
                f"daily loss limit: lost {loss} since 00:00 UTC (equity {start} -> "
                f"{self.last_equity}), limit {allowed} = {limit} of day-start equity"
            )
        return None

    def drawdown_reason(self, max_drawdown: Decimal) -> str | None:
        """Return why entries are stopped by the drawdown rule (latched), or None."""
        if self.drawdown_stop is None and self.peak_equity > _ZERO:
            drawdown = (self.peak_equity - self.last_equity) / self.peak_equity
            if drawdown >= max_drawdown:
                self.drawdown_stop = (
                    f"max drawdown stop: equity {self.last_equity} is {drawdown:.4%} below the "
                    f"peak {self.peak_equity} (limit {max_drawdown:.2%}); reset is explicit"
                )
        return self.drawdown_stop

    def reset_drawdown(self) -> None:
        """Clear a drawdown stop and restart the peak from the last equity (operator action)."""
        self.drawdown_stop = None
        self.peak_equity = self.last_equity

    def state(self) -> dict[str, str | int | None]:
        """Return a JSON-safe snapshot."""
        return {
            "day": self.day,
            "day_start_equity": str(self.day_start_equity),
            "peak_equity": str(self.peak_equity),
            "last_equity": str(self.last_equity),
            "drawdown_stop": self.drawdown_stop,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a snapshot made by ``state``."""
        day = state["day"]
        self.day = None if day is None else int(day)
        self.day_start_equity = Decimal(state["day_start_equity"])
        self.peak_equity = Decimal(state["peak_equity"])
        self.last_equity = Decimal(state["last_equity"])
        stop = state["drawdown_stop"]
        self.drawdown_stop = None if stop is None else str(stop)


class LossCooldown:
    """After ``losses`` consecutive losing round trips, no entry for ``duration_ns``.

    A winning (or break-even) round trip resets the count; the count also restarts once a
    cooldown begins, so the next cooldown needs ``losses`` new losses. ``losses=None`` switches
    the rule off: the losses are still counted (state, metrics), no cooldown ever starts.
    """

    __slots__ = ("consecutive_losses", "duration_ns", "losses", "until_ns")

    def __init__(self, losses: int | None, duration_ns: int) -> None:
        if (losses is not None and losses < 1) or duration_ns < 1:
            raise ConfigError(
                f"cooldown needs losses >= 1 and duration_ns >= 1, got {losses}, {duration_ns}"
            )
        self.losses = losses
        self.duration_ns = duration_ns
        self.consecutive_losses = 0
        self.until_ns: int | None = None

    def record(self, pnl: Decimal, ts_ns: int) -> None:
        """Count one closed round trip's net PnL closed at ``ts_ns``."""
        if pnl >= _ZERO:
            self.consecutive_losses = 0
            return
        self.consecutive_losses += 1
        if self.losses is not None and self.consecutive_losses >= self.losses:
            self.until_ns = ts_ns + self.duration_ns
            self.consecutive_losses = 0

    def reason(self, ts_ns: int) -> str | None:
        """Return why entries wait at ``ts_ns``, or None once the cooldown has expired."""
        if self.until_ns is None or ts_ns >= self.until_ns:
            return None
        return (
            f"cooldown after {self.losses} consecutive losses until ts_ns {self.until_ns} "
            f"({(self.until_ns - ts_ns) // NS_PER_SECOND} s left)"
        )

    def state(self) -> dict[str, int | None]:
        """Return a JSON-safe snapshot."""
        return {"consecutive_losses": self.consecutive_losses, "until_ns": self.until_ns}

    def restore(self, state: dict[str, Any]) -> None:
        """Load a snapshot made by ``state``."""
        self.consecutive_losses = int(state["consecutive_losses"])
        until = state["until_ns"]
        self.until_ns = None if until is None else int(until)


def symbol_exposure_reason(
    symbol: str, current: Decimal, pending: Decimal, added: Decimal, equity: Decimal, limit: Decimal
) -> str | None:
    """Return why ``added`` notional on ``symbol`` passes its limit, or None.

    ``current`` is the open notional at marks, ``pending`` the notional of unfilled intents.
    """
    allowed = limit * equity
    total = current + pending + added
    if total > allowed:
        return (
            f"symbol exposure limit on {symbol}: open {current} + pending {pending} + new "
            f"{added} = {total} > {allowed} ({limit} of equity {equity})"
        )
    return None


def open_positions_reason(open_count: int, maximum: int) -> str | None:
    """Return why one more position would pass ``maximum``, or None."""
    if open_count >= maximum:
        return f"max open positions: {open_count} open or pending, limit {maximum}"
    return None
