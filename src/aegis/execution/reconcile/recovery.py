"""Startup recovery: resolve every pending order by asking the venue (OR2, PE4, RC3).

Uses ``PENDING_STATUSES`` from ``aegis.model``: the very set the reconciler uses (RC3).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import structlog

from aegis.execution.reconcile._types import HealAction, MismatchKind
from aegis.execution.reconcile.heal import OrderHealer
from aegis.model import PENDING_STATUSES, Fill, Order, OrderStatus
from aegis.store import Store
from aegis.venues.base import Venue, VenueOrder

__all__ = ["PENDING_STATUSES", "PendingResolution", "resolve_pending"]

log = structlog.get_logger(__name__)

TRIGGER_RECOVERY: Final = "recovery"


@dataclass(frozen=True, slots=True)
class PendingResolution:
    """What became of one pending order: its state before and after, and the venue's answer."""

    client_order_id: str
    symbol: str
    previous_status: OrderStatus
    status: OrderStatus
    venue_status: OrderStatus | None  # None: the venue does not know the order

    @property
    def changed(self) -> bool:
        """Return True when the stored order was updated."""
        return self.previous_status is not self.status


async def resolve_pending(
    venue: Venue,
    store: Store,
    tenant: str,
    bot_id: str,
    *,
    clock: Callable[[], int] = time.time_ns,
) -> list[PendingResolution]:
    """Ask the venue about every pending order of the bot and adopt its answer.

    Known to the venue: its fills (fetched once per symbol) and status are adopted. Unknown:
    NEW and SUBMITTED become REJECTED (the order never reached the venue), ACCEPTED and
    PARTIALLY_FILLED become EXPIRED, PENDING_CANCEL becomes CANCELLED; each with a reason.
    The run is recorded as a reconciliation run with trigger ``recovery``.
    """
    pending = await asyncio.to_thread(
        store.orders, tenant, bot_id=bot_id, statuses=PENDING_STATUSES
    )
    if not pending:
        return []
    answers = await asyncio.gather(
        *(venue.fetch_order(o.symbol, o.client_order_id) for o in pending)
    )
    filled_symbols = sorted({a.symbol for a in answers if a is not None and a.filled_quantity})
    fetched = await asyncio.gather(*(venue.fetch_fills(s) for s in filled_symbols))
    venue_fills = [f for fills in fetched for f in fills]
    return await asyncio.to_thread(
        _apply, venue, store, tenant, bot_id, clock, list(zip(pending, answers, strict=True)),
        venue_fills,
    )  # fmt: skip


def _apply(
    venue: Venue,
    store: Store,
    tenant: str,
    bot_id: str,
    clock: Callable[[], int],
    answered: list[tuple[Order, VenueOrder | None]],
    venue_fills: list[Fill],
) -> list[PendingResolution]:
    healer = OrderHealer(store, tenant, bot_id, venue.instruments(), clock)
    stored = {(f.client_order_id, f.trade_id) for f in store.fills(tenant, bot_id=bot_id)}
    run_id = store.start_reconciliation(tenant, bot_id, TRIGGER_RECOVERY)
    results: list[PendingResolution] = []
    for order, answer in answered:
        if answer is None:
            after = healer.resolve_unknown(order)
            kind = MismatchKind.MISSING_ON_EXCHANGE
        else:
            fills = [
                f
                for f in venue_fills
                if f.client_order_id == order.client_order_id
                and (f.client_order_id, f.trade_id) not in stored
            ]
            after = healer.heal(order, answer, fills)
            kind = MismatchKind.STATUS_DRIFT
        result = PendingResolution(
            order.client_order_id,
            order.symbol,
            order.status,
            after.status,
            None if answer is None else answer.status,
        )
        results.append(result)
        if result.changed:
            store.record_mismatch(
                tenant,
                run_id,
                str(kind),
                f"order {order.symbol} {order.client_order_id} status",
                local_value=str(order.status),
                venue_value=None if answer is None else str(answer.status),
                action=str(HealAction.ADOPTED),
            )
        log.info(
            "pending_order_resolved",
            tenant=tenant,
            bot_id=bot_id,
            client_order_id=order.client_order_id,
            previous=str(order.status),
            status=str(after.status),
            venue_status=None if answer is None else str(answer.status),
        )
    store.finish_reconciliation(tenant, run_id, records_checked=len(answered))
    return results
