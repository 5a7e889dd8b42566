"""Position sizing: how much to buy or sell for a decision, as a Decimal quantity (PR1).

Sizers are pure and cheap: the backtester calls one per actionable signal. The quantity returned
is already floored to the instrument's step (``Instrument.round_quantity``); the order manager
still validates it against every filter before an order exists.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Protocol

from aegis.model.errors import ConfigError

if TYPE_CHECKING:
    from aegis.model.instrument import Instrument
    from aegis.model.signals import Decision

_ZERO = Decimal(0)
_ONE = Decimal(1)


class Sizer(Protocol):
    """Turns a decision into a quantity of the instrument's base asset (or contracts).

    ``uses_equity`` tells the caller whether ``size`` reads ``price`` and ``equity``: when it
    is False the caller may pass zeros and skip valuing the portfolio (backtest hot path).
    """

    @property
    def uses_equity(self) -> bool:
        """Whether ``size`` reads the reference price and the equity."""
        ...

    def size(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> Decimal:
        """Return the quantity to trade; ``price`` is the reference price, ``equity`` in quote."""
        ...


def _positive_decimal(name: str, value: Decimal | str | int) -> Decimal:
    if isinstance(value, float):
        raise ConfigError(f"{name} must be a Decimal, str or int, not float {value!r}")
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}") from exc
    if not number.is_finite() or number <= _ZERO:
        raise ConfigError(f"{name} must be a positive finite number, got {value!r}")
    return number


class FixedQuantity:
    """Always the same quantity, floored to the instrument's step."""

    __slots__ = ("_cache", "quantity")

    uses_equity = False

    def __init__(self, quantity: Decimal | str | int) -> None:
        self.quantity = _positive_decimal("quantity", quantity)
        # Rounding is the same for every call on one instrument: remember it (hot path).
        self._cache: tuple[Instrument, Decimal] | None = None

    def size(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> Decimal:
        """Return the fixed quantity rounded down to ``instrument``'s step."""
        cache = self._cache
        if cache is not None and cache[0] is instrument:
            return cache[1]
        rounded = instrument.round_quantity(self.quantity)
        self._cache = (instrument, rounded)
        return rounded

    def __repr__(self) -> str:
        return f"FixedQuantity({self.quantity})"


class FixedFraction:
    """A fraction of current equity, converted to a quantity at the reference price."""

    __slots__ = ("fraction",)

    uses_equity = True

    def __init__(self, fraction: Decimal | str | int) -> None:
        number = _positive_decimal("fraction", fraction)
        if number > _ONE:
            raise ConfigError(f"fraction must be in (0, 1], got {fraction!r}")
        self.fraction = number

    def size(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> Decimal:
        """Return ``fraction * equity / (price * contract_size)`` floored to the step."""
        if price <= _ZERO:
            raise ConfigError(
                f"reference price must be positive to size {decision.symbol}: {price}"
            )
        if equity <= _ZERO:
            return _ZERO
        notional = self.fraction * equity
        return instrument.round_quantity(notional / (price * instrument.contract_size))

    def __repr__(self) -> str:
        return f"FixedFraction({self.fraction})"
