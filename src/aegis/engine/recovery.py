"""Start-up recovery and bot snapshots (PE3, PE4, RC3).

At start, before any candle is decided on: restore the newest bot snapshot (strategy state,
learned weights, last processed candle, breakers, kill switch, risk state), resolve every pending
order against the venue (adopting its answer), run a full reconciliation (trigger ``start``),
then rehydrate the order manager, the position legs and the applier's memory of fills from the
store, and feed the risk engine the round trips its restored state lacks (``_replay_round_trips``).
``snapshot_state`` is what the runtime saves periodically and at shutdown.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import structlog
from sqlalchemy import text

from aegis.engine.durable import Durability
from aegis.engine.runtime import TradingRuntime
from aegis.execution.reconcile import (
    Reconciler,
    resolve_pending,
    stored_legs_and_trades,
)
from aegis.store import Store, TradeRecord

log = structlog.get_logger(__name__)

SNAPSHOT_VERSION: Final = 1


def snapshot_owner() -> str:
    """Return this process's owner name for snapshots: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def stored_next_sequence(store: Store, tenant: str, bot_id: str) -> int:
    """Read the bot's next intent sequence without taking one (1 for a new bot)."""
    with store.engine.connect() as connection:
        value = connection.execute(
            text(
                "SELECT next_sequence FROM intent_sequences "
                "WHERE tenant_id = :tenant AND bot_id = :bot"
            ),
            {"tenant": tenant, "bot": bot_id},
        ).scalar_one_or_none()
    return 1 if value is None else int(value)


def snapshot_state(runtime: TradingRuntime, durability: Durability) -> dict[str, Any]:
    """Return the bot state to snapshot: JSON-safe (PE3)."""
    manager = runtime.pipeline.order_manager
    return {
        "version": SNAPSHOT_VERSION,
        "strategies": {s: strategy.state() for s, strategy in runtime.strategies.items()},
        "learned_weights": None,  # no learning layer in this runtime yet: "no model" (ML2)
        "last_candles": dict(runtime.processed_ms),
        "next_sequence": manager.next_sequence,
        "restored": durability.restored.to_json(),
        **durability.state(),
    }


async def save_snapshot(store: Store, runtime: TradingRuntime, durability: Durability) -> None:
    """Save a snapshot with this process as its owner (skipped while the database is away)."""
    if not durability.journal.is_available:
        return
    state = snapshot_state(runtime, durability)
    await asyncio.to_thread(
        store.save_snapshot, durability.tenant, durability.bot_id, snapshot_owner(), state
    )


async def recover(
    runtime: TradingRuntime,
    durability: Durability,
    store: Store,
    *,
    reconciler: Reconciler | None,
    cash: Mapping[str, Decimal] | None = None,
) -> None:
    """Run the start-up recovery described in the module docstring.

    ``cash``: balances to put back after replaying fills (live mode: the venue's balances
    already contain every realised PnL and fee the replay adds again).
    """
    tenant, bot_id = durability.tenant, durability.bot_id
    restored = durability.restored
    snapshot = await asyncio.to_thread(store.latest_snapshot, tenant, bot_id)
    if snapshot is not None:
        _restore_snapshot(runtime, durability, snapshot.state)
        restored.snapshot_owner = snapshot.owner
        restored.snapshot_created_ns = snapshot.created_ns
    resolutions = await resolve_pending(runtime.venue, store, tenant, bot_id, clock=time.time_ns)
    restored.pending_resolved = len(resolutions)
    if reconciler is not None:
        report = await reconciler.run("start")
        restored.start_reconciliation = report.status
    await asyncio.to_thread(_rehydrate, runtime, durability, store)
    closed = await asyncio.to_thread(store.trades, tenant, bot_id=bot_id, is_open=False)
    _replay_round_trips(durability, closed)
    if cash is not None:
        runtime.pipeline.order_manager.portfolio.cash.update(cash)
    log.info("recovered", tenant=tenant, bot_id=bot_id, **restored.to_json())


def _restore_snapshot(
    runtime: TradingRuntime, durability: Durability, state: Mapping[str, Any]
) -> None:
    restored = durability.restored
    for symbol, strategy_state in dict(state.get("strategies") or {}).items():
        strategy = runtime.strategies.get(symbol)
        if strategy is None:
            continue
        strategy.restore(strategy_state)
        restored.strategies.append(symbol)
    last = {s: int(ts) for s, ts in dict(state.get("last_candles") or {}).items()}
    restored.last_candles = {s: ts for s, ts in last.items() if s in restored.strategies}
    runtime.resume_after_ms.update(restored.last_candles)
    durability.restore(dict(state))


def _replay_round_trips(durability: Durability, closed: list[TradeRecord]) -> None:
    """Feed the risk engine the stored round trips after the snapshot's marks.

    Those closed after the last snapshot (a crash) or by the start reconciliation's adopted
    fills. With no snapshot, all of them (the risk state starts empty: the store is the
    truth). A snapshot written before the marks existed holds an unknown prefix of them in its
    risk state: nothing is replayed (counting a loss twice would pause entries wrongly), and
    the marks start at the newest stored trades so the next start replays only newer ones.
    """
    if durability.round_trip_marks_unknown:
        durability.mark_round_trips_seen(closed)
        durability.round_trip_marks_unknown = False
        log.warning(
            "round_trips_not_replayed",
            reason="the snapshot predates round-trip marks: its risk state already holds an "
            "unknown part of the stored round trips",
            bot_id=durability.bot_id,
            closed_trades=len(closed),
        )
        return
    durability.restored.round_trips_replayed = durability.replay_round_trips(closed)


def _rehydrate(runtime: TradingRuntime, durability: Durability, store: Store) -> None:
    """Load orders, fills and legs of the traded symbols from the store into memory (PE4)."""
    tenant, bot_id = durability.tenant, durability.bot_id
    manager = runtime.pipeline.order_manager
    symbols = set(manager.instruments)
    orders = [o for o in store.orders(tenant, bot_id=bot_id) if o.symbol in symbols]
    fills = [f for f in store.fills(tenant, bot_id=bot_id) if f.symbol in symbols]
    fills.sort(key=lambda f: (f.ts_ns, f.trade_id))
    manager.restore(orders, fills)
    manager.next_sequence = max(manager.next_sequence, stored_next_sequence(store, tenant, bot_id))
    runtime.applier.remember(fills)
    journal = durability.journal
    journal.book, journal.trades = stored_legs_and_trades(
        store, tenant, bot_id, manager.instruments
    )
    durability.locks.rebind(manager.open_orders)
    by_id = {o.client_order_id: o for o in orders}
    for client_id in list(durability.risk.pending()):
        order = by_id.get(client_id)
        if order is None or order.status.is_terminal:
            durability.gate.release(client_id)  # RK2: only live intents hold capital
    restored = durability.restored
    restored.orders = len(orders)
    restored.open_orders = len(manager.open_orders)
    restored.fills = len(fills)
