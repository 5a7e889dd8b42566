"""Adopt the venue's truth into the store: one ``apply_order_update`` per change (PE2).

Synchronous (the store is): the async callers run it in a worker thread. The order state
machine is followed where it allows the venue's answer; where it does not (the venue reports
fills on an order we hold as expired, say), the venue wins and the forced state carries a
reason that says so.

An adopted fill writes the round trips it implies (``apply_fill``: the journal's derivation),
starting from the store's open trades, in the same transaction as the legs it moves: an exit
missed while the bot was down closes or reduces the open trade with its exact exit price, and
a fill that opens a leg from flat opens its trade.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Final

import structlog

from aegis.execution.reconcile._positions import PositionBook
from aegis.execution.reconcile._trades import TradeTracker, apply_fill, stored_legs_and_trades
from aegis.model import (
    IllegalTransition,
    Instrument,
    Order,
    OrderEventKind,
    OrderStatus,
    OrderType,
    OrderUpdate,
)
from aegis.model.events import Fill
from aegis.store import DuplicateFill, DuplicateIntent, Store
from aegis.venues.base import VenueOrder

log = structlog.get_logger(__name__)

_S = OrderStatus
_E = OrderEventKind
_MS_TO_NS: Final = 1_000_000
ADOPTED_TAG: Final = "adopted"

# events that lead from a live state to the venue's status (the state machine checks each)
_PATHS: Final[Mapping[OrderStatus, tuple[OrderEventKind, ...]]] = {
    _S.ACCEPTED: (_E.ACCEPT,),
    _S.PARTIALLY_FILLED: (_E.ACCEPT,),
    _S.CANCELLED: (_E.CANCEL,),
    _S.EXPIRED: (_E.EXPIRE,),
    _S.REJECTED: (_E.REJECT,),
    _S.PENDING_CANCEL: (_E.CANCEL_REQUEST,),
}
# the event recorded for a state reached by force
_EVENT_OF: Final[Mapping[OrderStatus, OrderEventKind]] = {
    _S.NEW: _E.SUBMIT,
    _S.SUBMITTED: _E.SUBMIT,
    _S.ACCEPTED: _E.ACCEPT,
    _S.PARTIALLY_FILLED: _E.ACCEPT,
    _S.FILLED: _E.FILL,
    _S.PENDING_CANCEL: _E.CANCEL_REQUEST,
    _S.CANCELLED: _E.CANCEL,
    _S.REJECTED: _E.REJECT,
    _S.EXPIRED: _E.EXPIRE,
}
# what an order the venue does not know becomes, by its local state (documented rules)
UNKNOWN_ORDER_RULES: Final[Mapping[OrderStatus, tuple[OrderEventKind, str]]] = {
    _S.NEW: (_E.REJECT, "unknown to the venue: the intent never reached it"),
    _S.SUBMITTED: (_E.REJECT, "unknown to the venue: the submission was lost before the wire"),
    _S.ACCEPTED: (_E.EXPIRE, "unknown to the venue: it no longer lists this open order"),
    _S.PARTIALLY_FILLED: (_E.EXPIRE, "unknown to the venue: it no longer lists this open order"),
    _S.PENDING_CANCEL: (_E.CANCEL, "unknown to the venue: our cancel took effect"),
}


class OrderHealer:
    """Writes the venue's view of orders and fills for one bot, keeping positions consistent."""

    def __init__(
        self,
        store: Store,
        tenant: str,
        bot_id: str,
        instruments: Mapping[str, Instrument],
        clock: Callable[[], int],
    ) -> None:
        self._store = store
        self._tenant = tenant
        self._bot_id = bot_id
        self._instruments = instruments
        self._clock = clock
        self._book, self._trades = self._load()

    def adopt_missing(self, venue_order: VenueOrder, fills: Sequence[Fill]) -> Order:
        """Record an order only the venue knows (another client, a lost ack), then heal it."""
        key = venue_order.client_order_id or venue_order.venue_order_id
        created_ns = (venue_order.created_ms or 0) * _MS_TO_NS or self._clock()
        order_type = venue_order.type
        if order_type is None:
            order_type = OrderType.MARKET if venue_order.price is None else OrderType.LIMIT
        intent = Order(
            client_order_id=key,
            bot_id=self._bot_id,
            symbol=venue_order.symbol,
            side=venue_order.side,
            type=order_type,
            quantity=venue_order.quantity,
            price=venue_order.price,
            stop_price=venue_order.stop_price,
            reduce_only=venue_order.reduce_only,
            status=_S.SUBMITTED,
            venue_order_id=venue_order.venue_order_id,
            created_ns=created_ns,
            tag=ADOPTED_TAG,
            reason="adopted by reconciliation: placed outside this bot or its ack was lost",
        )
        try:
            recorded = self._store.record_intent(self._tenant, intent)
        except DuplicateIntent:
            # Recorded since this run read the store (the runtime's own write, or an earlier
            # run): adoption is idempotent, so heal the stored order to the venue's truth.
            stored = self._store.get_order(self._tenant, key)
            if stored is None:
                raise
            log.info("adoption_found_recorded", client_order_id=key)
            recorded = stored
        return self.heal(recorded, venue_order, fills)

    def heal(self, order: Order, venue_order: VenueOrder, fills: Sequence[Fill]) -> Order:
        """Apply ``fills`` (venue fills not stored yet) then adopt the venue's status."""
        for fill in sorted(fills, key=lambda f: (f.ts_ns, f.trade_id)):
            order = self._apply_fill(order, fill)
        return self._adopt_status(order, venue_order)

    def resolve_unknown(self, order: Order) -> Order:
        """Close a pending order the venue does not know, by ``UNKNOWN_ORDER_RULES``."""
        rule = UNKNOWN_ORDER_RULES.get(order.status)
        if rule is None:
            return order
        kind, reason = rule
        update = OrderUpdate(order.client_order_id, kind, self._clock(), reason=reason)
        after = order.apply(update)
        self._store.apply_order_update(self._tenant, after, update)
        log.info(
            "reconcile_unknown_order_closed",
            bot_id=self._bot_id,
            client_order_id=order.client_order_id,
            previous=str(order.status),
            status=str(after.status),
        )
        return after

    # ----------------------------------------------------------------- internals
    def _load(self) -> tuple[PositionBook, TradeTracker]:
        """Read the stored legs and open trades: adopted fills carry on from them."""
        return stored_legs_and_trades(self._store, self._tenant, self._bot_id, self._instruments)

    def _apply_fill(self, order: Order, fill: Fill) -> Order:
        if order.status is _S.NEW:  # it was sent after all: the venue filled it
            order = order.apply(OrderUpdate(order.client_order_id, _E.SUBMIT, fill.ts_ns))
        if fill.position_side is None and order.position_side is not None:
            fill = replace(fill, position_side=order.position_side)
        left = order.quantity - order.filled_quantity
        kind = _E.FILL if fill.quantity >= left else _E.PARTIAL_FILL
        update = OrderUpdate(order.client_order_id, kind, fill.ts_ns, fill, order.venue_order_id)
        try:
            after = order.apply(update)
        except IllegalTransition:
            after = _forced_fill(order, fill)
        # a one-way flip moves two legs (the closed one and the opened one, each its fee share)
        # and ends one trade while it opens the next
        positions, trades = apply_fill(self._book, self._trades, fill)
        try:
            self._store.apply_order_update(
                self._tenant, after, update, positions=positions, trades=trades
            )
        except DuplicateFill:
            # the stream stored it meanwhile: the store is right, re-read it
            self._book, self._trades = self._load()
            stored = self._store.get_order(self._tenant, order.client_order_id)
            return order if stored is None else stored
        return after

    def _adopt_status(self, order: Order, venue_order: VenueOrder) -> Order:
        target = venue_order.status
        after = order
        for kind in _path(order.status, target):
            try:
                after = after.apply(self._update(after, kind, venue_order))
            except IllegalTransition:
                break
        changes: dict[str, object] = {}
        if after.status is not target:
            changes["status"] = target
        if after.filled_quantity != venue_order.filled_quantity:
            changes["filled_quantity"] = venue_order.filled_quantity
        average = venue_order.average_price
        if average is not None and after.average_fill_price != average:
            changes["average_fill_price"] = average
        if after.venue_order_id is None:
            changes["venue_order_id"] = venue_order.venue_order_id
        if changes:
            changes["reason"] = f"reconciliation adopted the venue's state ({target})"
            after = after.replace(**changes)
        if after == order:
            return order
        kind = _EVENT_OF[after.status]
        update = self._update(after, kind, venue_order, reason=after.reason)
        after = after.replace(updated_ns=update.ts_ns)
        self._store.apply_order_update(self._tenant, after, update)
        return after

    def _update(
        self, order: Order, kind: OrderEventKind, venue_order: VenueOrder, reason: str | None = None
    ) -> OrderUpdate:
        stamp = (venue_order.updated_ms or 0) * _MS_TO_NS or self._clock()
        return OrderUpdate(
            order.client_order_id, kind, stamp, venue_order_id=venue_order.venue_order_id,
            reason=reason,
        )  # fmt: skip


def _path(current: OrderStatus, target: OrderStatus) -> tuple[OrderEventKind, ...]:
    if current is target:
        return ()
    steps = _PATHS.get(target, ())
    if current is _S.NEW and target is not _S.REJECTED and target is not _S.CANCELLED:
        return (_E.SUBMIT, *steps)
    if current is _S.PENDING_CANCEL and target in (_S.ACCEPTED, _S.PARTIALLY_FILLED):
        return (_E.REJECT,)  # the venue refused our cancel: the order still rests
    return steps


def _forced_fill(order: Order, fill: Fill) -> Order:
    filled = order.filled_quantity + fill.quantity
    average = order.average_fill_price
    if average is None or not order.filled_quantity:
        average = fill.price
    else:
        average = (average * order.filled_quantity + fill.price * fill.quantity) / filled
    status = _S.FILLED if filled >= order.quantity else _S.PARTIALLY_FILLED
    return order.replace(
        status=status,
        filled_quantity=filled,
        average_fill_price=average,
        updated_ns=fill.ts_ns,
        reason=f"reconciliation adopted venue fill {fill.trade_id} in state {order.status}",
    )
