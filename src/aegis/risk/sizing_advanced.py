"""Volatility (ATR) and capped-Kelly sizing (RK1), same ``size()`` shape as ``aegis.risk.sizing``.

Both also offer ``explain()``, which returns the quantity *and* a sentence saying how it was
found (or why it is zero); the risk engine puts that sentence in the decision's thought.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final

from aegis.model.errors import ConfigError
from aegis.risk.statistics import DEFAULT_MINIMUM_ROUND_TRIPS, kelly_decimal

if TYPE_CHECKING:
    from aegis.model.instrument import Instrument
    from aegis.model.signals import Decision

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)


@dataclass(frozen=True, slots=True)
class SizingResult:
    """A quantity (floored to the instrument's step) and how it was found."""

    quantity: Decimal
    note: str


def _fraction(name: str, value: Decimal | str | int, *, allow_above_one: bool = False) -> Decimal:
    if isinstance(value, float):
        raise ConfigError(f"{name} must be a Decimal, str or int, not float {value!r}")
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}") from exc
    if not number.is_finite() or number <= _ZERO or (number > _ONE and not allow_above_one):
        bound = "> 0" if allow_above_one else "in (0, 1]"
        raise ConfigError(f"{name} must be {bound}, got {value!r}")
    return number


def _quantity(notional: Decimal, price: Decimal, instrument: Instrument) -> Decimal:
    return instrument.round_quantity(notional / (price * instrument.contract_size))


def _check_price(decision: Decision, price: Decimal) -> None:
    if price <= _ZERO:
        raise ConfigError(f"reference price must be positive to size {decision.symbol}: {price}")


class VolatilitySizer:
    """Risk ``risk_fraction`` of equity if the stop, ``atr_multiple`` ATRs away, is hit.

    ``quantity = risk_fraction * equity / (atr_multiple * atr * contract_size)``, then capped so
    the notional never exceeds ``max_notional_fraction`` of equity (a quiet market must not
    produce a position ten times the account). The ATR is read from the decision's metadata
    (key ``atr_key``, default ``"atr"``), where the strategy that saw the candles put it.
    """

    __slots__ = ("atr_key", "atr_multiple", "max_notional_fraction", "risk_fraction")

    uses_equity = True

    def __init__(
        self,
        risk_fraction: Decimal | str | int,
        atr_multiple: Decimal | str | int = 2,
        *,
        max_notional_fraction: Decimal | str | int = 1,
        atr_key: str = "atr",
    ) -> None:
        self.risk_fraction = _fraction("risk_fraction", risk_fraction)
        self.atr_multiple = _fraction("atr_multiple", atr_multiple, allow_above_one=True)
        self.max_notional_fraction = _fraction(
            "max_notional_fraction", max_notional_fraction, allow_above_one=True
        )
        self.atr_key = atr_key

    def explain(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> SizingResult:
        """Return the ATR-based quantity and how it was computed."""
        _check_price(decision, price)
        atr = _metadata_decimal(decision, self.atr_key)
        if atr is None or atr <= _ZERO:
            raw = decision.metadata.get(self.atr_key)
            return SizingResult(_ZERO, f"no usable ATR in metadata[{self.atr_key!r}]: {raw!r}")
        if equity <= _ZERO:
            return SizingResult(_ZERO, f"equity {equity} is not positive")
        stop_distance = self.atr_multiple * atr
        risked = self.risk_fraction * equity
        quantity = risked / (stop_distance * instrument.contract_size)
        cap = self.max_notional_fraction * equity / (price * instrument.contract_size)
        note = (
            f"volatility sizing: risk {risked} ({self.risk_fraction} of equity) over a stop "
            f"{stop_distance} away ({self.atr_multiple} x ATR {atr})"
        )
        if quantity > cap:
            quantity = cap
            note += f"; capped at {self.max_notional_fraction} of equity in notional"
        return SizingResult(instrument.round_quantity(quantity), note)

    def size(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> Decimal:
        """Return the ATR-based quantity floored to ``instrument``'s step (0 without an ATR)."""
        return self.explain(decision, price, equity, instrument).quantity

    def __repr__(self) -> str:
        return f"VolatilitySizer({self.risk_fraction}, {self.atr_multiple})"


def _metadata_decimal(decision: Decision, key: str) -> Decimal | None:
    raw = decision.metadata.get(key)
    if raw is None or isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        # float -> Decimal through its shortest repr (contracts.md), never Decimal(float)
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


class RoundTripHistory:
    """The most recent round-trip PnLs (net, quote currency), fed by the engine."""

    __slots__ = ("_pnls",)

    def __init__(self, pnls: Sequence[Decimal] = (), *, capacity: int = 1_000) -> None:
        if capacity < 1:
            raise ConfigError(f"round trip history capacity must be >= 1, got {capacity}")
        self._pnls: deque[Decimal] = deque(pnls, maxlen=capacity)

    def record(self, pnl: Decimal) -> None:
        """Append the net PnL of one closed round trip."""
        self._pnls.append(pnl)

    def load(self, pnls: Iterable[Decimal]) -> None:
        """Replace the recorded PnLs (restore from a snapshot)."""
        self._pnls.clear()
        self._pnls.extend(pnls)

    @property
    def pnls(self) -> tuple[Decimal, ...]:
        """Return the recorded PnLs, oldest first."""
        return tuple(self._pnls)

    def __len__(self) -> int:
        return len(self._pnls)


class CappedKellySizer:
    """Invest ``multiplier * Kelly`` of equity, never more than ``cap``.

    Kelly comes from the win rate and payoff ratio of ``history``. With fewer than
    ``minimum_round_trips`` (or no losing trip yet) there is no trustworthy Kelly: the sizer
    falls back to ``fallback_fraction`` and says so in the note. A Kelly at or below zero (no
    edge) sizes zero: the engine rejects the entry with that reason.
    """

    __slots__ = ("cap", "fallback_fraction", "history", "minimum_round_trips", "multiplier")

    uses_equity = True

    def __init__(
        self,
        history: RoundTripHistory,
        *,
        cap: Decimal | str | int = "0.25",
        fallback_fraction: Decimal | str | int = "0.02",
        multiplier: Decimal | str | int = "0.5",
        minimum_round_trips: int = DEFAULT_MINIMUM_ROUND_TRIPS,
    ) -> None:
        self.history = history
        self.cap = _fraction("cap", cap)
        self.fallback_fraction = _fraction("fallback_fraction", fallback_fraction)
        self.multiplier = _fraction("multiplier", multiplier)
        if minimum_round_trips < 1:
            raise ConfigError(f"minimum_round_trips must be >= 1, got {minimum_round_trips}")
        self.minimum_round_trips = minimum_round_trips

    def fraction(self) -> tuple[Decimal, str]:
        """Return the fraction of equity to invest and why."""
        full, reason = kelly_decimal(self.history.pnls, minimum=self.minimum_round_trips)
        if full is None:
            return self.fallback_fraction, (
                f"kelly unavailable ({reason}); fallback fraction {self.fallback_fraction}"
            )
        if full <= _ZERO:
            return _ZERO, f"kelly {full:.4f} <= 0 over {len(self.history)} round trips: no edge"
        scaled = self.multiplier * full
        if scaled > self.cap:
            return self.cap, f"kelly {full:.4f} x {self.multiplier} capped at {self.cap}"
        return scaled, f"kelly {full:.4f} x {self.multiplier} = {scaled:.4f}"

    def explain(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> SizingResult:
        """Return the Kelly-based quantity and how it was computed."""
        _check_price(decision, price)
        fraction, note = self.fraction()
        if equity <= _ZERO or fraction == _ZERO:
            return SizingResult(_ZERO, note if equity > _ZERO else f"equity {equity} <= 0")
        return SizingResult(_quantity(fraction * equity, price, instrument), note)

    def size(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> Decimal:
        """Return the Kelly-based quantity floored to ``instrument``'s step."""
        return self.explain(decision, price, equity, instrument).quantity

    def __repr__(self) -> str:
        return f"CappedKellySizer(cap={self.cap}, fallback={self.fallback_fraction})"
