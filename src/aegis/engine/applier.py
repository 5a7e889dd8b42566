"""Apply venue updates exactly once, whatever order and however often they arrive.

The user stream, the submit answer and the REST resync after a reconnect can all report the same
acknowledgement or fill, in any order. ``UpdateApplier`` is the one gate in front of
``TradingPipeline.on_updates``: a fill is applied once per ``(client order id, trade id)`` and
never beyond the order's quantity, and a status event the order has already moved past is
dropped instead of raising ``IllegalTransition``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Final

import structlog

from aegis.engine.pipeline import TradingPipeline
from aegis.model import TRANSITIONS
from aegis.model.enums import OrderStatus
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.order import Order

log = structlog.get_logger(__name__)

_ZERO: Final = Decimal(0)
#: Called with the order as it is after each applied update (the durable journal, PE2).
AppliedListener = Callable[[Order, OrderUpdate], None]


class UpdateApplier:
    """Filter updates to those that still change something, then apply them (idempotent).

    ``skipped`` counts dropped updates by reason (``duplicate_fill``, ``overfill``,
    ``stale_status``, ``unknown_order``) for metrics and tests.
    """

    def __init__(
        self, pipeline: TradingPipeline, *, on_applied: AppliedListener | None = None
    ) -> None:
        self.pipeline = pipeline
        self.on_applied = on_applied
        self._seen_trades: set[tuple[str, str]] = set()
        self.skipped: Counter[str] = Counter()

    def remember(self, fills: Iterable[Fill]) -> None:
        """Mark fills as applied already (restored from the store at start: PE4)."""
        self._seen_trades.update((f.client_order_id, f.trade_id) for f in fills)

    def notify(self, updates: Iterable[OrderUpdate]) -> None:
        """Report applied ``updates`` to ``on_applied`` with each order's current state."""
        if self.on_applied is None:
            return
        orders = self.pipeline.order_manager.orders
        for update in updates:
            order = orders.get(update.client_order_id)
            if order is not None:
                self.on_applied(order, update)

    def applicable(self, updates: Iterable[OrderUpdate]) -> list[OrderUpdate]:
        """Return the updates that are new and legal now, remembering their fills as seen.

        Checks each update against the order as it will be after the previous ones in the batch.
        """
        orders = self.pipeline.order_manager.orders
        projected: dict[str, Order] = {}
        result: list[OrderUpdate] = []
        for update in updates:
            coid = update.client_order_id
            order = projected.get(coid) or orders.get(coid)
            if order is None:
                self._skip("unknown_order", update)
                continue
            normalised = self._normalise(order, update)
            if normalised is None:
                continue
            projected[coid] = order.apply(normalised)
            if normalised.fill is not None:
                self._seen_trades.add((coid, normalised.fill.trade_id))
            result.append(normalised)
        return result

    def apply(self, updates: Iterable[OrderUpdate]) -> list[OrderUpdate]:
        """Apply the applicable updates through the pipeline; return what was applied."""
        fresh = self.applicable(updates)
        if not fresh:
            return fresh
        if self.on_applied is None:
            self.pipeline.on_updates(fresh)
            return fresh
        # one at a time: each update is journaled with the order state it produced (PE2)
        for update in fresh:
            self.pipeline.on_updates((update,))
            self.notify((update,))
        return fresh

    def apply_fills(self, fills: Sequence[Fill]) -> list[OrderUpdate]:
        """Apply fills learnt from REST (resync) as fill events; known trades are skipped."""
        return self.apply(self.fill_updates(fills))

    def fill_updates(self, fills: Sequence[Fill]) -> list[OrderUpdate]:
        """Turn REST fills into FILL / PARTIAL_FILL updates by each order's cumulative quantity."""
        orders = self.pipeline.order_manager.orders
        filled: dict[str, Decimal] = {}
        updates: list[OrderUpdate] = []
        for fill in sorted(fills, key=lambda f: (f.ts_ns, f.trade_id)):
            coid = fill.client_order_id
            order = orders.get(coid)
            if order is None or (coid, fill.trade_id) in self._seen_trades:
                continue
            total = filled.get(coid, order.filled_quantity) + fill.quantity
            filled[coid] = total
            kind = OrderEventKind.FILL if total >= order.quantity else OrderEventKind.PARTIAL_FILL
            updates.append(OrderUpdate(coid, kind, fill.ts_ns, fill, order.venue_order_id))
        return updates

    def _normalise(self, order: Order, update: OrderUpdate) -> OrderUpdate | None:
        fill = update.fill
        if fill is not None:
            key = (order.client_order_id, fill.trade_id)
            if key in self._seen_trades:
                self._skip("duplicate_fill", update)
                return None
            left = order.quantity - order.filled_quantity
            if fill.quantity > left:
                self._skip("overfill", update)
                return None
            if order.status is OrderStatus.FILLED:
                self._skip("overfill", update)
                return None
            # The event kind follows what the fill does to the order, not what the source said:
            # a PARTIAL_FILL that completes the order is a FILL.
            kind = OrderEventKind.FILL if fill.quantity == left else OrderEventKind.PARTIAL_FILL
            if kind is not update.kind:
                update = OrderUpdate(
                    update.client_order_id, kind, update.ts_ns, fill, update.venue_order_id
                )
        if (order.status, update.kind) not in TRANSITIONS:
            self._skip("stale_status", update)
            return None
        return update

    def _skip(self, reason: str, update: OrderUpdate) -> None:
        self.skipped[reason] += 1
        log.debug(
            "order_update_skipped",
            reason=reason,
            client_order_id=update.client_order_id,
            kind=str(update.kind),
        )
