"""Database unavailable for a while: no intent is sent unwritten, nothing applied is lost."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.durability.conftest import SYMBOL

from aegis.engine.journal import DatabaseUnavailable, DurableJournal
from aegis.model import Instrument, OrderEventKind, OrderStatus, OrderUpdate
from aegis.model.enums import LiquidityRole, OrderSide, OrderType, TimeInForce
from aegis.model.events import Fill
from aegis.model.order import Order
from aegis.store import Store

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
TENANT = "default"


def _order(coid: str) -> Order:
    return Order(
        client_order_id=coid, bot_id="bot1", symbol=SYMBOL, side=OrderSide.BUY,
        type=OrderType.MARKET, quantity=Decimal(10), price=None, stop_price=None,
        time_in_force=TimeInForce.GTC, reduce_only=False, position_side=None,
        created_ns=1, tag="entry",
    )  # fmt: skip


def _fill(coid: str, trade: str) -> Fill:
    return Fill(coid, SYMBOL, OrderSide.BUY, Decimal("1.1"), Decimal(10), Decimal("0.0055"),
                "USDT", LiquidityRole.TAKER, 10, trade, None)  # fmt: skip


def _journal(store: Store, events: list[tuple[bool, str]]) -> DurableJournal:
    instruments = {SYMBOL: Instrument.permissive(SYMBOL, quote="USDT")}
    journal = DurableJournal(store, TENANT, "bot1", instruments)
    journal.on_availability = lambda ok, reason: events.append((ok, reason))
    return journal


def _fill_updates(journal: DurableJournal, coid: str) -> None:
    order = _order(coid)
    submitted = order.apply(OrderUpdate(coid, OrderEventKind.SUBMIT, 2))
    accept = OrderUpdate(coid, OrderEventKind.ACCEPT, 3, venue_order_id="v1")
    accepted = submitted.apply(accept)
    fill = OrderUpdate(coid, OrderEventKind.FILL, 4, _fill(coid, "t-" + coid), "v1")
    journal.record_update(submitted, OrderUpdate(coid, OrderEventKind.SUBMIT, 2))
    journal.record_update(accepted, accept)
    journal.record_update(accepted.apply(fill), fill)


def test_sqlite_locked_pauses_refuses_intents_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "aegis.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    events: list[tuple[bool, str]] = []
    journal = _journal(store, events)
    journal.write_intent(_order("bot1.1"))
    _fill_updates(journal, "bot1.1")
    journal.write_intent(_order("bot1.2"))
    locker = sqlite3.connect(path, isolation_level=None, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the database
    try:
        _fill_updates(journal, "bot1.2")  # the venue keeps talking: queued, in order
        assert journal.is_available is False
        assert journal.backlog >= 1
        assert events
        assert events[0][0] is False
        with pytest.raises(DatabaseUnavailable):
            journal.write_intent(_order("bot1.3"))  # OR2: not written, so never sent
        assert journal.flush() is False or journal.backlog == 0  # still locked: kept
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert journal.probe()
    assert journal.flush()
    assert journal.is_available
    assert events[-1][0] is True
    assert store.get_order(TENANT, "bot1.3") is None
    order = store.get_order(TENANT, "bot1.2")
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert [f.trade_id for f in store.fills(TENANT, bot_id="bot1")] == ["t-bot1.1", "t-bot1.2"]
    assert [p.quantity for p in store.positions(TENANT, bot_id="bot1")] == [Decimal(20)]
    store.close()


def test_postgresql_connections_killed_the_journal_recovers_without_loss(pg_dsn: str) -> None:
    import psycopg
    from tests.integration.store.conftest import _libpq, _PgDatabases

    databases = _PgDatabases(pg_dsn)
    url = databases.create()
    store = Store(url)
    try:
        store.upgrade()
        journal = _journal(store, [])
        journal.write_intent(_order("bot1.1"))
        name = store.engine.url.database
        with psycopg.connect(_libpq(pg_dsn), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        # pooled connections are dead; pre-ping replaces them, or the write is queued
        _fill_updates(journal, "bot1.1")
        assert journal.probe()
        assert journal.flush()
        order = store.get_order(TENANT, "bot1.1")
        assert order is not None
        assert order.status is OrderStatus.FILLED
        assert len(store.fills(TENANT, bot_id="bot1")) == 1
    finally:
        store.close()
        databases.drop_all()
