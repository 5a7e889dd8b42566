"""The durable runtime against the emulator (--speed max) on SQLite and PostgreSQL (issue 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest
from tests.integration.durability.conftest import SYMBOL, run_session, until

from aegis.config import Settings
from aegis.engine.assembly import open_store
from aegis.engine.controls import load_pending, request_control
from aegis.engine.session import RunSession
from aegis.execution.reconcile import MismatchKind
from aegis.model import OrderStatus
from aegis.model.enums import OrderSide, OrderType, TimeInForce
from aegis.model.order import Order
from aegis.risk import BreakerKind, KillScope

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
TENANT = "default"


async def test_every_order_fill_and_position_is_in_the_store(
    durable_settings: Callable[..., Settings],
) -> None:
    settings = durable_settings("live")
    result = await run_session(RunSession(settings, install_signal_handlers=False))
    runtime = result.runtime
    assert result.stop_reason == "end of data"
    with open_store(settings) as store:
        stored = {o.client_order_id: o for o in store.orders(TENANT, bot_id="bot1")}
        fills = store.fills(TENANT, bot_id="bot1")
        positions = store.positions(TENANT, bot_id="bot1")
        snapshot = store.latest_snapshot(TENANT, "bot1")
        trades = store.trades(TENANT, bot_id="bot1")
    memory = runtime.pipeline.order_manager.orders
    assert len(runtime.pipeline.fills) >= 6
    # OR2 / PE2: every order the runtime made is stored with its final state and fills
    assert set(stored) == {o.client_order_id for o in memory.values() if o.status is not
                           OrderStatus.NEW}  # fmt: skip
    for coid, order in stored.items():
        assert order.status is memory[coid].status
        assert order.filled_quantity == memory[coid].filled_quantity
    key = sorted((f.client_order_id, f.trade_id) for f in fills)
    assert key == sorted((f.client_order_id, f.trade_id) for f in runtime.pipeline.fills)
    net = sum((f.quantity if f.side is OrderSide.BUY else -f.quantity for f in fills), Decimal(0))
    held = sum((p.signed_quantity for p in positions), Decimal(0))
    assert held == net  # every position equals the sum of its fills
    assert [t for t in trades if not t.is_open], "round trips are written with the fills"
    assert snapshot is not None
    assert snapshot.owner
    assert snapshot.state["strategies"][SYMBOL]["strategy"] == "ema_cross"
    assert not [o for o in stored.values() if o.status in (OrderStatus.NEW, OrderStatus.SUBMITTED)]


async def test_risk_rejection_leaves_a_thought_and_sends_nothing(
    durable_settings: Callable[..., Settings],
) -> None:
    settings = durable_settings("paper", risk={"max_symbol_exposure": "0.0001"})
    result = await run_session(RunSession(settings, install_signal_handlers=False))
    assert result.runtime.pipeline.fills == []
    with open_store(settings) as store:
        thoughts = store.thoughts(TENANT, bot_id="bot1")
        assert store.orders(TENANT, bot_id="bot1") == []
    rejected = [t for t in thoughts if t.metadata.get("risk_rule") == "symbol_exposure"]
    assert rejected
    assert not rejected[0].metadata["approved"]
    assert "risk rejected ENTER_LONG" in rejected[0].text


async def test_a_pending_intent_is_resolved_at_start_and_never_sent(
    durable_settings: Callable[..., Settings],
) -> None:
    settings = durable_settings("live")
    with open_store(settings) as store:
        intent = Order(
            client_order_id="bot1.zz", bot_id="bot1", symbol=SYMBOL, side=OrderSide.BUY,
            type=OrderType.MARKET, quantity=Decimal(10), price=None, stop_price=None,
            time_in_force=TimeInForce.GTC, reduce_only=False, position_side=None,
            created_ns=1, tag="entry",
        )  # fmt: skip
        store.record_intent(TENANT, intent)  # a crash right after the intent was written
    session = RunSession(settings, install_signal_handlers=False)
    result = await run_session(session)
    with open_store(settings) as store:
        resolved = store.get_order(TENANT, "bot1.zz")
        runs = store.reconciliation_runs(TENANT, "bot1")
    assert resolved is not None
    assert resolved.status is OrderStatus.REJECTED
    assert [r.trigger for r in sorted(runs, key=lambda r: r.run_id)][:2] == ["recovery", "start"]
    assert session.durable is not None
    assert session.durable.durability.restored.pending_resolved == 1
    # the sequence moved past the recovered id: no later order reuses it (OR2)
    assert "bot1.zz" not in {f.client_order_id for f in result.runtime.pipeline.fills}


async def test_reconciliation_adopts_an_order_placed_behind_the_bots_back_and_trips(
    durable_settings: Callable[..., Settings],
) -> None:
    settings = durable_settings("live")
    session = RunSession(settings, install_signal_handlers=False)
    outcome: dict[str, object] = {}

    async def meddle() -> None:
        await until(lambda: session.step_driver is not None and session.step_driver.steps >= 40)
        runtime, durable = session.runtime, session.durable
        assert runtime is not None
        assert durable is not None
        assert durable.reconciler is not None
        foreign = Order(
            client_order_id="manual-1", bot_id="other", symbol=SYMBOL, side=OrderSide.BUY,
            type=OrderType.LIMIT, quantity=Decimal(10), price=Decimal("0.5"), stop_price=None,
            time_in_force=TimeInForce.GTC, reduce_only=False, position_side=None,
            created_ns=1, tag="manual",
        )  # fmt: skip
        await runtime.venue.submit(foreign)  # not through the runtime: the store never saw it
        outcome["report"] = await durable.reconciler.run("periodic")
        outcome["tripped"] = durable.durability.breakers.is_tripped(
            BreakerKind.RECONCILIATION_MISMATCH
        )

    def started(*_: object) -> None:
        asyncio.get_running_loop().create_task(meddle())

    session.on_started = started
    await run_session(session)
    report = outcome["report"]
    assert report.count(MismatchKind.MISSING_LOCALLY) >= 1  # type: ignore[attr-defined]
    assert outcome["tripped"] is True
    with open_store(settings) as store:
        adopted = store.get_order(TENANT, "manual-1")
        events = store.breaker_events(TENANT, "bot1")
        audit = store.audit_log(TENANT)
    assert adopted is not None
    assert adopted.tag == "adopted"
    assert any(e.breaker == "reconciliation_mismatch" and e.action == "trip" for e in events)
    assert any(a.action == "breaker_trip" for a in audit)


async def test_kill_cancels_flattens_latches_and_is_audited(
    durable_settings: Callable[..., Settings],
) -> None:
    settings = durable_settings("live")
    session = RunSession(settings, install_signal_handlers=False)
    killed_at: dict[str, int] = {}

    async def kill_when_in_position() -> None:
        assert session.runtime is not None
        manager = session.runtime.pipeline.order_manager
        await until(lambda: manager.net_quantity(SYMBOL) != 0)
        assert session.services is not None
        assert session.store is not None
        store = session.store
        request_control(store, TENANT, "alice", "kill", KillScope.of_bot(TENANT, "bot1"),
                        reason="test")  # fmt: skip
        killed_at["sequence"] = manager.next_sequence
        await session.services.poll_controls()
        killed_at["after"] = manager.next_sequence

    def started(*_: object) -> None:
        asyncio.get_running_loop().create_task(kill_when_in_position())

    session.on_started = started
    result = await run_session(session)
    manager = result.runtime.pipeline.order_manager
    assert manager.net_quantity(SYMBOL) == 0  # flattened
    assert session.durable is not None
    assert session.durable.durability.kill_switch.latched() == [KillScope.of_bot(TENANT, "bot1")]
    created_after = [
        o
        for o in manager.orders.values()
        if o.tag == "entry" and int(o.client_order_id.split(".")[1], 36) >= killed_at["after"]
    ]
    assert created_after == []  # latched: no entry after the kill
    with open_store(settings) as store:
        audit = [a for a in store.audit_log(TENANT) if a.action == "kill"]
        assert load_pending(store, TENANT) == []
    assert {a.outcome for a in audit} == {"requested", "done"}
    assert all(a.actor == "alice" for a in audit)
