"""Immutable events about orders and positions: fills, order updates, funding payments."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from aegis.model.enums import LiquidityRole, OrderSide, PositionSide


class OrderEventKind(StrEnum):
    """What happened to an order; the transition table in ``order`` maps it to a new status."""

    SUBMIT = "submit"
    ACCEPT = "accept"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCEL_REQUEST = "cancel_request"
    CANCEL = "cancel"
    REJECT = "reject"
    EXPIRE = "expire"

    @property
    def is_fill(self) -> bool:
        """Return True for the two events that carry a ``Fill``."""
        return self in FILL_EVENTS


FILL_EVENTS: Final = frozenset({OrderEventKind.PARTIAL_FILL, OrderEventKind.FILL})
_new: Final = object.__new__


@dataclass(frozen=True, slots=True, init=False)
class Fill:
    """One execution: ``quantity`` at ``price``; ``fee`` is paid in ``fee_currency``."""

    client_order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquidityRole
    ts_ns: int
    trade_id: str
    position_side: PositionSide | None = None

    # Built by new_fill (a mutable twin, re-classed, as ``Order`` is): plain slot stores cost
    # half of the slots' setters, and every order of a backtest builds its fills.
    def __new__(
        cls,
        client_order_id: str,
        symbol: str,
        side: OrderSide,
        price: Decimal,
        quantity: Decimal,
        fee: Decimal,
        fee_currency: str,
        liquidity: LiquidityRole,
        ts_ns: int,
        trade_id: str,
        position_side: PositionSide | None = None,
    ) -> Fill:
        return new_fill(
            client_order_id,
            symbol,
            side,
            price,
            quantity,
            fee,
            fee_currency,
            liquidity,
            ts_ns,
            trade_id,
            position_side,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy rebuild through __new__ (the default would call it without fields)
        return (Fill, _field_values(self, _FILL_FIELDS))

    @property
    def notional(self) -> Decimal:
        """Return price times quantity (quote units for a contract size of 1)."""
        return self.price * self.quantity


_FILL_FIELDS: Final = tuple(field.name for field in fields(Fill))


class _FillBuilder:
    """Mutable twin of ``Fill`` (the same slots): filled in, then re-classed to ``Fill``."""

    __slots__ = _FILL_FIELDS
    client_order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquidityRole
    ts_ns: int
    trade_id: str
    position_side: PositionSide | None


@dataclass(frozen=True, slots=True, init=False)
class OrderUpdate:
    """A change reported for one order (by the venue, the simulator or ourselves)."""

    client_order_id: str
    kind: OrderEventKind
    ts_ns: int
    fill: Fill | None = None
    venue_order_id: str | None = None
    reason: str | None = None

    # Built by new_update, as ``Fill`` by new_fill: three or more per order of a backtest.
    def __new__(
        cls,
        client_order_id: str,
        kind: OrderEventKind,
        ts_ns: int,
        fill: Fill | None = None,
        venue_order_id: str | None = None,
        reason: str | None = None,
    ) -> OrderUpdate:
        return new_update(client_order_id, kind, ts_ns, fill, venue_order_id, reason)

    def __reduce__(self) -> tuple[Any, ...]:
        return (OrderUpdate, _field_values(self, _UPDATE_FIELDS))


_UPDATE_FIELDS: Final = tuple(field.name for field in fields(OrderUpdate))


class _UpdateBuilder:
    """Mutable twin of ``OrderUpdate`` (the same slots), re-classed once filled in."""

    __slots__ = _UPDATE_FIELDS
    client_order_id: str
    kind: OrderEventKind
    ts_ns: int
    fill: Fill | None
    venue_order_id: str | None
    reason: str | None


def _field_values(instance: object, names: tuple[str, ...]) -> tuple[Any, ...]:
    # the values of ``names`` in order, shallow (``astuple`` would copy the nested Fill)
    return tuple(getattr(instance, name) for name in names)


def new_fill(
    client_order_id: str,
    symbol: str,
    side: OrderSide,
    price: Decimal,
    quantity: Decimal,
    fee: Decimal,
    fee_currency: str,
    liquidity: LiquidityRole,
    ts_ns: int,
    trade_id: str,
    position_side: PositionSide | None,
) -> Fill:
    """Return ``Fill(...)`` of these fields, all positional: a plain call, not a class call.

    The simulated exchange builds every fill of a backtest through it.
    """
    built = _new(_FillBuilder)
    built.client_order_id = client_order_id
    built.symbol = symbol
    built.side = side
    built.price = price
    built.quantity = quantity
    built.fee = fee
    built.fee_currency = fee_currency
    built.liquidity = liquidity
    built.ts_ns = ts_ns
    built.trade_id = trade_id
    built.position_side = position_side
    built.__class__ = Fill  # type: ignore[assignment]  # same slot layout, see _FillBuilder
    return built  # type: ignore[return-value]  # re-classed to Fill on the line above


def new_update(
    client_order_id: str,
    kind: OrderEventKind,
    ts_ns: int,
    fill: Fill | None,
    venue_order_id: str | None,
    reason: str | None,
) -> OrderUpdate:
    """Return ``OrderUpdate(...)`` of these fields, all positional (see ``new_fill``)."""
    built = _new(_UpdateBuilder)
    built.client_order_id = client_order_id
    built.kind = kind
    built.ts_ns = ts_ns
    built.fill = fill
    built.venue_order_id = venue_order_id
    built.reason = reason
    built.__class__ = OrderUpdate  # type: ignore[assignment]  # same slot layout
    return built  # type: ignore[return-value]  # re-classed on the line above


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """A perpetual funding settlement; ``amount`` is the signed cash flow to the account.

    ``amount`` > 0: the account received funding; < 0: it paid (Binance's income sign).
    """

    symbol: str
    rate: Decimal
    mark_price: Decimal
    amount: Decimal
    ts_ns: int
