"""What ``aegis status`` and ``aegis orders`` show, read from the store (OR6: ids as stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from aegis.engine.controls import load_pending, runtime_pid
from aegis.model.order import Order
from aegis.store import Store


def bot_ids(store: Store, tenant: str) -> list[str]:
    """Return the tenant's bots, by id."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT bot_id FROM bots WHERE tenant_id = :tenant ORDER BY bot_id"),
            {"tenant": tenant},
        ).scalars()
        return [str(row) for row in rows]


def order_json(order: Order) -> dict[str, Any]:
    """Return an order as JSON: every id exactly as the backend issued it (OR6)."""
    return {
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "bot_id": order.bot_id,
        "symbol": order.symbol,
        "side": str(order.side),
        "type": str(order.type),
        "status": str(order.status),
        "quantity": str(order.quantity),
        "filled_quantity": str(order.filled_quantity),
        "price": None if order.price is None else str(order.price),
        "average_fill_price": (
            None if order.average_fill_price is None else str(order.average_fill_price)
        ),
        "reduce_only": order.reduce_only,
        "tag": order.tag,
        "created_ns": order.created_ns,
        "updated_ns": order.updated_ns,
    }


def orders_report(store: Store, tenant: str, bot_id: str | None = None) -> list[dict[str, Any]]:
    """Return every order of the tenant (or one bot), oldest first."""
    return [order_json(o) for o in store.orders(tenant, bot_id=bot_id)]


def status_report(store: Store, tenant: str, data_dir: Path) -> dict[str, Any]:
    """Return bots with open orders, positions, breakers, kill switch and what was restored."""
    bots = []
    for bot_id in bot_ids(store, tenant):
        snapshot = store.latest_snapshot(tenant, bot_id)
        state: dict[str, Any] = {} if snapshot is None else snapshot.state
        risk = state.get("risk") or {}
        breakers = (risk.get("breakers") or {}).get("tripped") or {}
        latched = (state.get("kill_switch") or {}).get("latched") or []
        bots.append(
            {
                "bot_id": bot_id,
                "running_pid": runtime_pid(data_dir, bot_id),
                "open_orders": [order_json(o) for o in store.pending_orders(tenant, bot_id)],
                "positions": [
                    {
                        "symbol": p.symbol,
                        "side": str(p.side),
                        "quantity": str(p.quantity),
                        "average_entry_price": str(p.average_entry_price),
                        "realised_pnl": str(p.realised_pnl),
                        "fees_paid": str(p.fees_paid),
                    }
                    for p in store.positions(tenant, bot_id)
                    if p.quantity != 0
                ],
                "breakers": breakers,
                "kill_switch": [item.get("scope") for item in latched],
                "snapshot": None
                if snapshot is None
                else {"owner": snapshot.owner, "created_ns": snapshot.created_ns},
                "restored": state.get("restored"),
                "last_candles": state.get("last_candles"),
                "recent_breaker_events": [
                    {
                        "breaker": e.breaker,
                        "action": e.action,
                        "reason": e.reason,
                        "actor": e.actor,
                        "ts_ns": e.ts_ns,
                    }
                    for e in store.breaker_events(tenant, bot_id, limit=10)
                ],
            }
        )
    pending = [
        {"request_id": r.request_id, "action": r.action, "actor": r.actor, "ts_ns": r.ts_ns}
        for r in load_pending(store, tenant)
    ]
    return {"tenant": tenant, "database": store.url, "bots": bots, "pending_controls": pending}
