"""SQLite: the reservation and the intent run on the driver connection (issue 3 section 7).

They are the two writes the runtime waits for between a candle and its order. They must write
exactly what the SQLAlchemy path writes, keep the intent's durable commit (OR2: FULL sync, no
relaxed level), keep the reservation's atomic check (RK2), and fail as the other path does.
"""

from __future__ import annotations

import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from aegis.store import DuplicateIntent, Store

from .conftest import FakeClock, make_order

pytestmark = pytest.mark.integration
TENANT = "t1"
TABLES = ("orders", "order_events", "capital_reservations", "intent_sequences")


def _store(path: Path, *, driver: bool = True) -> Store:
    store = Store(f"sqlite:///{path}", clock=FakeClock())
    store.upgrade()
    if not driver:
        store._driver = None  # the SQLAlchemy path, for comparison
    return store


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()  # noqa: S608
            for table in TABLES
        }


def _write(store: Store) -> None:
    assert store.reserve_capital(
        TENANT, "bot1", "bot1.7", Decimal("123.456789012345678901"), Decimal(1000),
        durable=False,
    )  # fmt: skip
    store.record_intent(TENANT, make_order(client_id="bot1.7"))


def test_the_driver_path_writes_what_the_sqlalchemy_path_writes(tmp_path: Path) -> None:
    fast, slow = _store(tmp_path / "fast.db"), _store(tmp_path / "slow.db", driver=False)
    try:
        _write(fast)
        _write(slow)
    finally:
        fast.close()
        slow.close()
    written = _rows(tmp_path / "fast.db")
    assert written == _rows(tmp_path / "slow.db")
    assert len(written["orders"]) == 1
    assert written["intent_sequences"][0][-1] == 8  # the sequence moved past bot1.7


def _traced(store: Store) -> list[str]:
    """Statements of the store's driver connection, and fail on any SQLAlchemy execution."""
    statements: list[str] = []
    driver = store._driver
    assert driver is not None
    driver._cursor().connection.set_trace_callback(statements.append)

    def no_sqlalchemy(*args: object) -> None:
        raise AssertionError(f"SQLAlchemy executed {args[2]!r} on the hot path")

    event.listen(store.engine, "before_cursor_execute", no_sqlalchemy)
    return statements


def test_the_intent_commits_at_full_sync_and_the_reservation_alone_relaxes_it(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path / "aegis.db")
    try:
        store.ensure_bot(TENANT, "bot1")  # first-use inserts: not on the hot path
        statements = _traced(store)
        assert store.reserve_capital(TENANT, "bot1", "bot1.1", Decimal(5), Decimal(10),
                                     durable=False)  # fmt: skip
        reservation, statements[:] = list(statements), []
        store.record_intent(TENANT, make_order(client_id="bot1.1"))
        intent = list(statements)
        cursor = store._driver._cursor()  # type: ignore[union-attr]  # set by _traced
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()
        # the hot path never checkpoints the WAL; the pool's connections still do
        never_checkpoints = cursor.execute("PRAGMA wal_autocheckpoint").fetchone()
        pooled = store.engine.raw_connection()
        try:
            pool_checkpoints = pooled.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA wal_autocheckpoint"
            ).fetchone()
        finally:
            pooled.close()
    finally:
        store.close()
    assert reservation[0] == "PRAGMA synchronous=NORMAL"
    assert reservation[1] == "BEGIN IMMEDIATE"
    assert reservation[-2:] == ["COMMIT", "PRAGMA synchronous=FULL"]
    assert intent[0] == "BEGIN IMMEDIATE"
    assert intent[-1] == "COMMIT"
    assert not any(s.startswith("PRAGMA") for s in intent)  # committed at the FULL level
    assert [s.split()[:3] for s in intent[1:-1]] == [
        ["UPDATE", "intent_sequences", "SET"],
        ["INSERT", "INTO", "orders"],
        ["INSERT", "INTO", "order_events"],
    ]
    assert synchronous == (2,)  # FULL
    assert never_checkpoints == (0,)
    assert pool_checkpoints == (1000,)


def test_a_duplicate_intent_is_reported_and_rolled_back(tmp_path: Path) -> None:
    store = _store(tmp_path / "aegis.db")
    try:
        store.record_intent(TENANT, make_order(client_id="bot1.1"))
        with pytest.raises(DuplicateIntent, match=r"bot1\.1"):
            store.record_intent(TENANT, make_order(client_id="bot1.1", quantity=Decimal(2)))
        order = store.get_order(TENANT, "bot1.1")
        assert order is not None
        assert order.quantity != Decimal(2)
        store.record_intent(TENANT, make_order(client_id="bot1.2"))  # the connection still works
        assert store.get_order(TENANT, "bot1.2") is not None
    finally:
        store.close()


def test_a_locked_database_fails_like_the_sqlalchemy_path_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "aegis.db"
    store = _store(path)
    try:
        store.record_intent(TENANT, make_order(client_id="bot1.1"))
        driver = store._driver
        assert driver is not None
        driver._cursor().execute("PRAGMA busy_timeout=50")  # fail fast, not after 5 s
        locker = sqlite3.connect(path, isolation_level=None, timeout=0)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            # OperationalError is a DBAPIError: the journal's "database unavailable"
            with pytest.raises(OperationalError, match="locked"):
                store.record_intent(TENANT, make_order(client_id="bot1.2"))
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert store.get_order(TENANT, "bot1.2") is None
        store.record_intent(TENANT, make_order(client_id="bot1.2"))  # a fresh connection
        assert store.get_order(TENANT, "bot1.2") is not None
    finally:
        store.close()


def test_a_busy_driver_connection_sends_the_write_through_sqlalchemy(tmp_path: Path) -> None:
    store = _store(tmp_path / "aegis.db")
    driver = store._driver
    assert driver is not None
    try:
        with driver._lock:  # another thread is writing on the driver connection
            done = threading.Event()

            def write() -> None:
                store.record_intent(TENANT, make_order(client_id="bot1.1"))
                assert store.reserve_capital(TENANT, "bot1", "bot1.1", Decimal(5), Decimal(10))
                done.set()

            worker = threading.Thread(target=write)
            worker.start()
            worker.join(30)
            assert done.is_set()
        assert store.get_order(TENANT, "bot1.1") is not None
        assert store.reserved_capital(TENANT, "bot1") == Decimal(5)
    finally:
        store.close()
