"""The durable runtime between a closed candle and its order (issue 3 section 7).

The journal's writer thread starts no write (the entry's thought...) while the order is being
prepared and sent: it would compete with that path for the GIL. Afterwards everything queued
is written, in order, as before. Objects built at start-up are kept out of the run's garbage
collections, whose full passes over them stalled the loop.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.engine.test_runtime_fakes import (
    CANDLES,
    FIRST_COID,
    QUANTITY,
    SYMBOL,
    TIMEFRAME,
    build,
)

from aegis.config import Settings
from aegis.engine.assembly import build_durable
from aegis.engine.session import frozen_startup_heap
from aegis.model import Action, Order, OrderUpdate
from aegis.risk import FixedQuantity
from aegis.store import Store


@pytest.fixture
async def tasks() -> AsyncIterator[list[asyncio.Task[None]]]:
    """Tasks started by a test; cancelled and awaited at the end."""
    started: list[asyncio.Task[None]] = []
    yield started
    for task in started:
        task.cancel()
    await asyncio.gather(*started, return_exceptions=True)


async def test_journal_writes_wait_until_the_order_is_sent(
    tmp_path: Path, tasks: list[asyncio.Task[None]]
) -> None:
    entry_ts = CANDLES[4].ts_ms
    harness = build({entry_ts: Action.ENTER_LONG})
    runtime = harness.runtime
    store = Store(f"sqlite:///{tmp_path / 'aegis.db'}")
    store.upgrade()
    settings = Settings.model_validate(
        {"data_dir": tmp_path, "market": {"symbols": [SYMBOL], "timeframe": TIMEFRAME}}
    )
    manager = runtime.pipeline.order_manager
    parts = build_durable(settings, store, manager, FixedQuantity(QUANTITY), runtime.last_close,
                          harness.venue, reconcile=False)  # fmt: skip
    durability = parts.durability
    runtime.durability = durability
    runtime.pipeline.entry_gate = durability.gate
    venue = harness.venue
    held_at_submit: list[bool] = []
    send = venue.submit

    async def submit(order: Order) -> OrderUpdate:
        held_at_submit.append(durability.journal.writes_held)
        return await send(order)

    venue.submit = submit  # type: ignore[method-assign]  # the fake venue, observed
    try:
        tasks.append(asyncio.create_task(runtime.feed.run(), name="candle-feed"))
        await harness.until_processed(5)
        assert [o.client_order_id for o in venue.submitted] == [FIRST_COID]
        # the gate's thought was queued before the order left, and not written before it
        assert held_at_submit == [True]
        assert not durability.journal.writes_held
        assert durability.journal.drain(timeout_s=10)
        thoughts = store.thoughts(settings.database.tenant, bot_id=settings.bot_id)
        assert [t.symbol for t in thoughts] == [SYMBOL]
        stored = store.get_order(settings.database.tenant, FIRST_COID)
        assert stored is not None
        assert stored.quantity == Decimal(QUANTITY)
    finally:
        store.close()


def test_start_up_objects_are_frozen_for_the_run_and_handed_back_after() -> None:
    survivors = [[n] for n in range(1_000)]  # long-lived objects built at start-up
    with frozen_startup_heap():
        # a collection during the run no longer walks them (nor stalls the loop for it)
        assert gc.get_freeze_count() >= len(survivors)
    assert gc.get_freeze_count() == 0
