"""Orders and their state machine; the transition table is data (OR1)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from aegis.model.enums import OrderSide, OrderStatus, OrderType, PositionSide, TimeInForce
from aegis.model.errors import IllegalTransition
from aegis.model.events import OrderEventKind, OrderUpdate

_S = OrderStatus
_E = OrderEventKind

# (state, event) -> next state. Every pair not listed raises IllegalTransition.
# A fill event's listed target is used when the fill leaves quantity open; a fill that completes
# the order always leads to FILLED (the (state, FILL) entry must exist).
TRANSITIONS: Final[Mapping[tuple[OrderStatus, OrderEventKind], OrderStatus]] = MappingProxyType(
    {
        (_S.NEW, _E.SUBMIT): _S.SUBMITTED,
        (_S.NEW, _E.REJECT): _S.REJECTED,  # local validation or risk refused the intent
        (_S.NEW, _E.CANCEL): _S.CANCELLED,  # never sent: cancelled locally
        (_S.SUBMITTED, _E.ACCEPT): _S.ACCEPTED,
        (_S.SUBMITTED, _E.REJECT): _S.REJECTED,
        # a fast venue may report fills before (or instead of) the acknowledgement
        (_S.SUBMITTED, _E.PARTIAL_FILL): _S.PARTIALLY_FILLED,
        (_S.SUBMITTED, _E.FILL): _S.FILLED,
        (_S.SUBMITTED, _E.CANCEL_REQUEST): _S.PENDING_CANCEL,
        (_S.SUBMITTED, _E.CANCEL): _S.CANCELLED,
        (_S.SUBMITTED, _E.EXPIRE): _S.EXPIRED,  # IOC / FOK with nothing filled
        (_S.ACCEPTED, _E.PARTIAL_FILL): _S.PARTIALLY_FILLED,
        (_S.ACCEPTED, _E.FILL): _S.FILLED,
        (_S.ACCEPTED, _E.CANCEL_REQUEST): _S.PENDING_CANCEL,
        (_S.ACCEPTED, _E.CANCEL): _S.CANCELLED,
        (_S.ACCEPTED, _E.EXPIRE): _S.EXPIRED,
        (_S.PARTIALLY_FILLED, _E.PARTIAL_FILL): _S.PARTIALLY_FILLED,
        (_S.PARTIALLY_FILLED, _E.FILL): _S.FILLED,
        (_S.PARTIALLY_FILLED, _E.CANCEL_REQUEST): _S.PENDING_CANCEL,
        (_S.PARTIALLY_FILLED, _E.CANCEL): _S.CANCELLED,
        (_S.PARTIALLY_FILLED, _E.EXPIRE): _S.EXPIRED,
        # a fill can race our cancel request: account for it, stay pending cancel
        (_S.PENDING_CANCEL, _E.PARTIAL_FILL): _S.PENDING_CANCEL,
        (_S.PENDING_CANCEL, _E.FILL): _S.FILLED,
        (_S.PENDING_CANCEL, _E.CANCEL): _S.CANCELLED,
        (_S.PENDING_CANCEL, _E.EXPIRE): _S.EXPIRED,
        # the venue refused the cancel: the order still rests (PARTIALLY_FILLED if it has fills)
        (_S.PENDING_CANCEL, _E.REJECT): _S.ACCEPTED,
        # a fill can arrive after the venue acknowledged our cancel: accept it, do not drop it
        (_S.CANCELLED, _E.PARTIAL_FILL): _S.CANCELLED,
        (_S.CANCELLED, _E.FILL): _S.FILLED,
    }
)

# a plain dict copy of the table for the lookups: a mappingproxy's get is one call more
_TABLE: Final[dict[tuple[OrderStatus, OrderEventKind], OrderStatus]] = dict(TRANSITIONS)
_next_status: Final = _TABLE.get
_ZERO: Final = Decimal(0)
# members as module constants: the state machine compares them on every transition
_PARTIAL_FILL: Final = _E.PARTIAL_FILL
_FILL: Final = _E.FILL
_ACCEPTED: Final = _S.ACCEPTED
_NEW: Final = _S.NEW
FIELDS: Final = (
    "client_order_id",
    "bot_id",
    "symbol",
    "side",
    "type",
    "quantity",
    "price",
    "stop_price",
    "time_in_force",
    "reduce_only",
    "position_side",
    "status",
    "filled_quantity",
    "average_fill_price",
    "venue_order_id",
    "created_ns",
    "updated_ns",
    "tag",
    "reason",
)


class _OrderSlots:
    __slots__ = FIELDS

    client_order_id: str
    bot_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool
    position_side: PositionSide | None
    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    venue_order_id: str | None
    created_ns: int
    updated_ns: int
    tag: str
    reason: str | None


class _Builder(_OrderSlots):
    """Mutable twin of ``Order`` with the same layout; built, then re-classed to ``Order``.

    Setting slots on a plain object is ~8x faster than ``object.__setattr__`` on a frozen one,
    which keeps create + 3 transitions inside the backtester's budget.
    """

    __slots__ = ()


_new = object.__new__


class Order(_OrderSlots):
    """An immutable order; change it only with ``apply`` (state machine) or ``replace``.

    ``quantity`` and ``price`` must already be normalised by ``Instrument.normalise``:
    construction does not validate (it is on the backtester's hot path).
    """

    __slots__ = ()

    def __new__(
        cls,
        *,
        client_order_id: str,
        bot_id: str,
        symbol: str,
        side: OrderSide,
        type: OrderType,  # shadows the builtin: contract field name
        quantity: Decimal,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        position_side: PositionSide | None = None,
        status: OrderStatus = OrderStatus.NEW,
        filled_quantity: Decimal = _ZERO,
        average_fill_price: Decimal | None = None,
        venue_order_id: str | None = None,
        created_ns: int = 0,
        updated_ns: int | None = None,
        tag: str = "",
        reason: str | None = None,
    ) -> Order:
        built = _new(_Builder)
        built.client_order_id = client_order_id
        built.bot_id = bot_id
        built.symbol = symbol
        built.side = side
        built.type = type
        built.quantity = quantity
        built.price = price
        built.stop_price = stop_price
        built.time_in_force = time_in_force
        built.reduce_only = reduce_only
        built.position_side = position_side
        built.status = status
        built.filled_quantity = filled_quantity
        built.average_fill_price = average_fill_price
        built.venue_order_id = venue_order_id
        built.created_ns = created_ns
        built.updated_ns = created_ns if updated_ns is None else updated_ns
        built.tag = tag
        built.reason = reason
        built.__class__ = Order  # type: ignore[assignment]  # same slot layout, see _Builder
        return built  # type: ignore[return-value]  # re-classed to Order on the line above

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Order is immutable: use apply() or replace() to change {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Order is immutable: cannot delete {name}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.as_dict(),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Order):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in FIELDS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in FIELDS))

    def __repr__(self) -> str:
        body = ", ".join(f"{name}={getattr(self, name)!r}" for name in FIELDS)
        return f"Order({body})"

    # ----------------------------------------------------------------- views
    @property
    def remaining_quantity(self) -> Decimal:
        """Return the quantity still to fill."""
        return self.quantity - self.filled_quantity

    @property
    def is_terminal(self) -> bool:
        """Return True when the order is filled, cancelled, rejected or expired."""
        return self.status.is_terminal

    @property
    def is_open(self) -> bool:
        """Return True when the venue may still fill the order (RC3 pending set)."""
        return self.status.is_pending

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a dict (values unchanged: Decimals and enums)."""
        return {name: getattr(self, name) for name in FIELDS}

    def replace(self, **changes: Any) -> Order:
        """Return a copy with ``changes`` (no state-machine check: prefer ``apply``)."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise TypeError(f"Order has no field(s) {sorted(unknown)}")
        values = self.as_dict()
        values.update(changes)
        return Order(**values)

    # ----------------------------------------------------------------- state machine
    def apply(self, update: OrderUpdate) -> Order:
        """Return the order after ``update``; raise ``IllegalTransition`` if the table forbids it.

        Fills add to ``filled_quantity`` and move the volume-weighted ``average_fill_price``;
        a fill that completes the order leads to FILLED; an over-fill raises.
        """
        kind = update.kind
        status = self.status
        if update.client_order_id != self.client_order_id:
            raise IllegalTransition(
                f"update for order {update.client_order_id} applied to order "
                f"{self.client_order_id} (state {status}, event {kind})"
            )
        target = _next_status((status, kind))
        if target is None:
            raise IllegalTransition(
                f"order {self.client_order_id}: event {kind} not allowed in state {status}"
            )
        # The copy is written out field by field, not through a helper: this runs three times per
        # order on the backtester's hot path, and every call and store counts.
        built = _new(_Builder)
        built.client_order_id = self.client_order_id
        built.bot_id = self.bot_id
        built.symbol = self.symbol
        built.side = self.side
        built.type = self.type
        built.quantity = self.quantity
        built.price = self.price
        built.stop_price = self.stop_price
        built.time_in_force = self.time_in_force
        built.reduce_only = self.reduce_only
        built.position_side = self.position_side
        built.filled_quantity = self.filled_quantity
        built.average_fill_price = self.average_fill_price
        venue_order_id = update.venue_order_id
        built.venue_order_id = self.venue_order_id if venue_order_id is None else venue_order_id
        built.created_ns = self.created_ns
        built.updated_ns = update.ts_ns
        built.tag = self.tag
        reason = update.reason
        built.reason = self.reason if reason is None else reason
        if kind is _PARTIAL_FILL or kind is _FILL:
            target = self._fill(built, update, target)
        elif target is _ACCEPTED and self.filled_quantity > _ZERO:
            target = _S.PARTIALLY_FILLED
        built.status = target
        built.__class__ = Order  # type: ignore[assignment]  # same slot layout, see _Builder
        return built  # type: ignore[return-value]  # re-classed to Order on the line above

    def _fill(self, built: _Builder, update: OrderUpdate, target: OrderStatus) -> OrderStatus:
        fill = update.fill
        if fill is None:
            raise IllegalTransition(
                f"order {self.client_order_id}: event {update.kind} in state {self.status} "
                "carries no fill"
            )
        quantity = fill.quantity
        filled_before = self.filled_quantity
        filled = filled_before + quantity
        if not quantity > _ZERO or filled > self.quantity:
            raise IllegalTransition(
                f"order {self.client_order_id}: fill of {quantity} in state {self.status} "
                f"(event {update.kind}) would make filled {filled} of quantity {self.quantity}"
            )
        built.filled_quantity = filled
        average = self.average_fill_price
        if average is None or not filled_before:
            built.average_fill_price = fill.price
        else:
            built.average_fill_price = (average * filled_before + fill.price * quantity) / filled
        if filled == self.quantity:
            completed = _next_status((self.status, _FILL))
            if completed is None:
                raise IllegalTransition(
                    f"order {self.client_order_id}: completing fill not allowed in state "
                    f"{self.status} (event {update.kind})"
                )
            return completed
        if update.kind is _FILL:
            # a FILL that leaves quantity open is a partial fill in all but name
            partial = _next_status((self.status, _PARTIAL_FILL))
            if partial is None:
                raise IllegalTransition(
                    f"order {self.client_order_id}: partial fill not allowed in state "
                    f"{self.status} (event {update.kind})"
                )
            return partial
        return target


def new_order(
    client_order_id: str,
    bot_id: str,
    symbol: str,
    side: OrderSide,
    order_type: OrderType,
    quantity: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
    time_in_force: TimeInForce,
    reduce_only: bool,
    position_side: PositionSide | None,
    created_ns: int,
    tag: str,
) -> Order:
    """Return the NEW order ``Order(...)`` builds from these fields (nothing filled yet).

    Positional and without the keyword parsing of ``Order(...)``: the order manager builds
    every order of a backtest through it.
    """
    built = _new(_Builder)
    built.client_order_id = client_order_id
    built.bot_id = bot_id
    built.symbol = symbol
    built.side = side
    built.type = order_type
    built.quantity = quantity
    built.price = price
    built.stop_price = stop_price
    built.time_in_force = time_in_force
    built.reduce_only = reduce_only
    built.position_side = position_side
    built.status = _NEW
    built.filled_quantity = _ZERO
    built.average_fill_price = None
    built.venue_order_id = None
    built.created_ns = created_ns
    built.updated_ns = created_ns
    built.tag = tag
    built.reason = None
    built.__class__ = Order  # type: ignore[assignment]  # same slot layout, see _Builder
    return built  # type: ignore[return-value]  # re-classed to Order on the line above


def _rebuild(values: dict[str, Any]) -> Order:
    return Order(**values)
