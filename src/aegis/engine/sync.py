"""Order sync: bring local orders in line with the venue's view, by client order id (RC3, OR2).

Used before a decision in deterministic replays and after a reconciliation that adopted orders
(``confirm``), after every user-stream (re)connect (``reconcile``) and at shutdown (``settle``).
Everything the venue reports goes through the idempotent ``UpdateApplier``, so asking twice never
applies a fill twice.

Orders the process never created but reconciliation adopted into the store (placed by hand on
the bot's account, RC2) are taken over by ``confirm`` after each reconciliation with mismatches:
the order manager gets them in their stored state and their stored fills move the portfolio
once, bypassing the journal (the store has them). From then on they are followed like the bot's
own orders: user-stream updates apply, the kill switch cancels them.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from typing import Final, Protocol

import structlog

from aegis.engine.applier import UpdateApplier
from aegis.engine.metrics import RuntimeMetrics
from aegis.model.enums import OrderStatus
from aegis.model.errors import OrderNotFound, TransientVenueError
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.venues.base import Venue, VenueOrder

log = structlog.get_logger(__name__)

_MS_TO_NS: Final = 1_000_000
# Fills are fetched from a little before the order was created: venue and local clocks differ.
_FILL_LOOKBACK_MS: Final = 60_000
_CLOSING_EVENTS: Final = {
    OrderStatus.CANCELLED: OrderEventKind.CANCEL,
    OrderStatus.EXPIRED: OrderEventKind.EXPIRE,
    OrderStatus.REJECTED: OrderEventKind.REJECT,
}


class RecordedOrders(Protocol):
    """Where orders adopted by reconciliation are read from (``Durability``: the store)."""

    @property
    def reconciliations(self) -> int:
        """Return how many reconciliation runs with mismatches there were so far."""
        ...

    def recorded_orders_unknown(
        self, symbol: str, known: Container[str]
    ) -> list[tuple[Order, list[Fill]]]:
        """Return the recorded orders of ``symbol`` not in ``known``, each with its fills."""
        ...

    def reload_positions(self, instruments: Mapping[str, Instrument]) -> None:
        """Reload the journal's position legs and open trades after adopted fills."""
        ...


class OrderSync:
    """Confirm and settle local orders against ``venue``; see the module docstring.

    ``recorded``: where adopted orders are read from, the runtime's ``Durability`` (None: a
    runtime without a store adopts nothing). ``on_adopted_fill`` gets each fill taken over
    with an adopted order (the runtime's run record).
    """

    def __init__(
        self,
        venue: Venue,
        applier: UpdateApplier,
        metrics: RuntimeMetrics,
        *,
        recorded: RecordedOrders | None = None,
        on_adopted_fill: Callable[[Fill], None] | None = None,
    ) -> None:
        self.venue = venue
        self.applier = applier
        self.metrics = metrics
        self.recorded = recorded
        self.on_adopted_fill = on_adopted_fill
        self.last_sync_ms: int | None = None
        self.syncs = 0
        self.errors = 0
        self.adopted = 0
        # per symbol: the reconciliation count whose adoptions the process took over
        self._adopted_upto: dict[str, int] = {}

    def _open(self, symbol: str | None = None) -> list[Order]:
        orders = self.applier.pipeline.order_manager.open_orders
        return [o for o in orders if symbol is None or o.symbol == symbol]

    async def confirm(self, symbol: str) -> None:
        """Take over adopted orders of ``symbol``, then ask the venue about every open one."""
        adopted = self.adopt_recorded(symbol)
        try:
            for order in self._open(symbol):
                found = await self.venue.fetch_order(order.symbol, order.client_order_id)
                if found is not None:
                    await self._adopt(order, found)
        finally:
            if adopted and self.recorded is not None:
                # last: a fill the venue reported above may be one reconciliation stored
                # already (the journal's legs moved by it, the store refused it): the store
                # is right
                self.recorded.reload_positions(self.applier.pipeline.order_manager.instruments)
        self.syncs += 1

    def adopt_recorded(self, symbol: str) -> list[Order]:
        """Take over the recorded orders of ``symbol`` the process never created (RC2).

        Only after a reconciliation with mismatches since the last look (the store is read
        then, not on every confirm). Each order joins the order manager in its recorded state
        and its recorded fills move the portfolio once; the applier remembers them, so a venue
        report of the same fills is a duplicate. Returns the orders taken over.
        """
        recorded = self.recorded
        manager = self.applier.pipeline.order_manager
        if recorded is None or not manager.retain_history:
            # without history a finished order of ours would look unknown: never adopt then
            return []
        runs = recorded.reconciliations
        if self._adopted_upto.get(symbol) == runs:
            return []
        found = recorded.recorded_orders_unknown(symbol, manager.orders)
        self._adopted_upto[symbol] = runs
        adopted: list[Order] = []
        for order, fills in found:
            adopted.append(manager.adopt(order, fills))
            self.applier.remember(fills)
            if self.on_adopted_fill is not None:
                for fill in fills:
                    self.on_adopted_fill(fill)
            self.adopted += 1
            log.info("order_adopted_by_process", client_order_id=order.client_order_id,
                     symbol=symbol, status=str(order.status), fills=len(fills),
                     tag=order.tag)  # fmt: skip
        return adopted

    async def reconcile(self, open_on_venue: Iterable[VenueOrder]) -> None:
        """Settle local open orders the venue no longer lists as open (after a reconnect)."""
        still_open = {o.client_order_id for o in open_on_venue if o.client_order_id is not None}
        for order in self._open():
            if order.client_order_id in still_open:
                if order.status is OrderStatus.SUBMITTED:
                    self._apply(order, OrderEventKind.ACCEPT, None)
                continue
            try:
                found = await self.venue.fetch_order(order.symbol, order.client_order_id)
            except TransientVenueError as error:
                self.errors += 1
                log.warning("order_sync_failed", client_order_id=order.client_order_id,
                            error=str(error))  # fmt: skip
                continue
            if found is not None:
                await self._adopt(order, found)
        self.syncs += 1

    async def settle(self) -> list[Order]:
        """Shutdown: cancel every open order (or learn it filled); return those still unknown."""
        for order in self._open():
            try:
                update = await self.venue.cancel(order)
                self.applier.apply([update])
            except OrderNotFound:
                pass  # already gone on the venue: its final state is looked up below
            except TransientVenueError as error:
                log.warning("shutdown_cancel_failed", client_order_id=order.client_order_id,
                            error=str(error))  # fmt: skip
            current = self.applier.pipeline.order_manager.orders[order.client_order_id]
            if current.status.is_terminal and current.status is not OrderStatus.CANCELLED:
                continue
            found = await self.venue.fetch_order(order.symbol, order.client_order_id)
            if found is not None:
                await self._adopt(current, found)
            elif current.status is OrderStatus.SUBMITTED:
                # OR2: the venue never saw it (lookup by client id is authoritative): close it
                self._apply(current, OrderEventKind.REJECT, "not found on venue at shutdown")
        return self._open()

    async def _adopt(self, order: Order, found: VenueOrder) -> None:
        """Apply the fills the venue has and we lack, then its closing status if any."""
        if found.filled_quantity > order.filled_quantity:
            created_ms = order.created_ns // _MS_TO_NS
            fills = await self.venue.fetch_fills(order.symbol, created_ms - _FILL_LOOKBACK_MS)
            mine = [f for f in fills if f.client_order_id == order.client_order_id]
            self.applier.apply_fills(mine)
        current = self.applier.pipeline.order_manager.orders[order.client_order_id]
        kind = _CLOSING_EVENTS.get(found.status)
        if kind is not None:
            self._apply(current, kind, None, found.venue_order_id)
        elif current.status is OrderStatus.SUBMITTED and found.status is not OrderStatus.SUBMITTED:
            self._apply(current, OrderEventKind.ACCEPT, None, found.venue_order_id)

    def _apply(
        self,
        order: Order,
        kind: OrderEventKind,
        reason: str | None,
        venue_order_id: str | None = None,
    ) -> None:
        ts_ns = order.updated_ns
        update = OrderUpdate(order.client_order_id, kind, ts_ns, None, venue_order_id, reason)
        self.applier.apply([update])
