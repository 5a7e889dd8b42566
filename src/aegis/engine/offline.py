"""Execute a kill plan through the venue when no runtime runs (``aegis kill``, RK5).

Intent first here too (OR2): each flatten order is recorded with a client id from the store's
sequence before the venue is called, and the venue's answer is written in one transaction. Its
fills are adopted by the next runtime start (pending orders are resolved against the venue).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from aegis.engine.status import bot_ids
from aegis.model.enums import OrderStatus, OrderType, TimeInForce
from aegis.model.errors import AegisError
from aegis.model.events import OrderEventKind, OrderUpdate
from aegis.model.order import Order
from aegis.risk import BotBook, KillPlan, KillScope, KillSwitch
from aegis.store import Store
from aegis.venues.base import Venue


def plan_offline(store: Store, tenant: str, scope: KillScope, actor: str, reason: str) -> KillPlan:
    """Plan cancels and flattens for every bot of ``tenant`` inside ``scope``, from the store."""
    books: Sequence[BotBook] = [
        BotBook(
            tenant,
            bot_id,
            tuple(store.pending_orders(tenant, bot_id)),
            tuple(p for p in store.positions(tenant, bot_id) if p.quantity > 0),
        )
        for bot_id in bot_ids(store, tenant)
        if scope.covers(tenant, bot_id)
    ]
    return KillSwitch().engage(scope, books, actor, time.time_ns(), reason)


async def execute_offline(
    store: Store, tenant: str, venue: Venue, plan: KillPlan
) -> dict[str, Any]:
    """Cancel, then flatten, through ``venue``; return what was done and what failed."""
    done: dict[str, Any] = {"cancelled": [], "flatten_orders": [], "errors": []}
    for cancel in plan.cancels:
        order = store.get_order(tenant, cancel.client_order_id)
        if order is None:
            continue
        try:
            update = await venue.cancel(order)
            store.apply_order_update(tenant, order.apply(update), update)
            done["cancelled"].append(order.client_order_id)
        except AegisError as error:
            done["errors"].append(f"cancel {order.client_order_id}: {error}")
    for flatten in plan.flattens:
        now = time.time_ns()
        intent = Order(
            client_order_id="",
            bot_id=flatten.bot_id,
            symbol=flatten.symbol,
            side=flatten.side,
            type=OrderType.MARKET,
            quantity=flatten.quantity,
            price=None,
            stop_price=None,
            time_in_force=TimeInForce.GTC,
            reduce_only=True,
            position_side=flatten.position_side,
            status=OrderStatus.NEW,
            created_ns=now,
            updated_ns=now,
            tag="kill",
        )
        recorded = store.record_intent(tenant, intent)  # OR2: the id comes from the store
        submit = OrderUpdate(recorded.client_order_id, OrderEventKind.SUBMIT, now)
        submitted = recorded.apply(submit)
        store.apply_order_update(tenant, submitted, submit)
        try:
            answer = await venue.submit(submitted)
        except AegisError as error:
            done["errors"].append(f"flatten {recorded.client_order_id}: {error}")
            continue
        store.apply_order_update(tenant, submitted.apply(answer), answer)
        done["flatten_orders"].append(recorded.client_order_id)
    return done
