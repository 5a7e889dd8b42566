"""Exit locks per position leg, not per symbol (OR4).

Two trades on one symbol (a long and a short residual in hedge mode, a strategy exit and a kill
switch flatten) must never race to close the same leg twice. ``PositionLocks`` holds at most one
closing order per ``(symbol, position side)``: a second exit of that leg is refused until the
first order is final, while the other leg of the same symbol stays free.
"""

from __future__ import annotations

from collections.abc import Iterable

from aegis.model.enums import PositionSide
from aegis.model.order import Order

PositionKey = tuple[str, PositionSide]


class PositionLocks:
    """One closing order at a time per position leg; see the module docstring."""

    def __init__(self) -> None:
        self._holders: dict[PositionKey, str | None] = {}

    def acquire(self, key: PositionKey) -> bool:
        """Take the lock of ``key``; False when an exit of that leg is already in flight."""
        if key in self._holders:
            return False
        self._holders[key] = None
        return True

    def bind(self, key: PositionKey, client_order_id: str) -> None:
        """Attach the exit order that holds ``key`` (released when the order is final)."""
        self._holders[key] = client_order_id

    def release(self, key: PositionKey) -> None:
        """Free ``key`` (the exit was not sent, or its order is final)."""
        self._holders.pop(key, None)

    def on_order(self, order: Order) -> None:
        """Free the leg held by ``order`` once it reached a terminal state."""
        if not order.status.is_terminal:
            return
        for key, holder in list(self._holders.items()):
            if holder == order.client_order_id:
                del self._holders[key]

    def holder(self, key: PositionKey) -> str | None:
        """Return the client id of the exit holding ``key`` (None: free or not yet sent)."""
        return self._holders.get(key)

    def is_locked(self, key: PositionKey) -> bool:
        """Return True while an exit of ``key`` is in flight."""
        return key in self._holders

    def rebind(self, open_orders: Iterable[Order]) -> None:
        """Re-take the locks of open exit orders (restart: rehydrated from the store)."""
        for order in open_orders:
            if order.reduce_only or order.tag == "exit":
                side = order.position_side or (
                    PositionSide.LONG if order.side.value == "sell" else PositionSide.SHORT
                )
                self._holders[(order.symbol, side)] = order.client_order_id

    @property
    def held(self) -> dict[PositionKey, str | None]:
        """Return the held keys and their exit orders."""
        return dict(self._holders)
