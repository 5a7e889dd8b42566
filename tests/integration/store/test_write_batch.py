"""SQLite: ``Store.write_batch`` commits an entry's reservation with its intent (issue 3 §7).

One ``BEGIN IMMEDIATE`` ... ``COMMIT`` at ``synchronous=FULL`` where there were a relaxed commit
and a synced one. The rows are those of the separate writes; a failure rolls the whole batch
back; a reservation without an intent is still committed; a write on another connection of the
same thread inside a batch does not wait for the batch's lock.
"""

from __future__ import annotations

import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from aegis.store import DuplicateIntent, Store

from .conftest import FakeClock, make_order

pytestmark = pytest.mark.integration
TENANT = "t1"
TABLES = ("orders", "order_events", "capital_reservations", "intent_sequences")


def _store(path: Path) -> Store:
    store = Store(f"sqlite:///{path}", clock=FakeClock())
    store.upgrade()
    store.ensure_bot(TENANT, "bot1")  # first-use inserts: not what is measured here
    return store


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    # a connection of its own: sees only what was committed
    with sqlite3.connect(path) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()  # noqa: S608
            for table in TABLES
        }


def _traced(store: Store) -> list[str]:
    statements: list[str] = []
    driver = store._driver
    assert driver is not None
    driver._cursor().connection.set_trace_callback(statements.append)
    return statements


def _entry(store: Store, client_id: str = "bot1.7") -> None:
    assert store.reserve_capital(
        TENANT, "bot1", client_id, Decimal("123.456789012345678901"), Decimal(1000),
        durable=False,
    )  # fmt: skip
    store.record_intent(TENANT, make_order(client_id=client_id))


def test_reservation_and_intent_commit_once_at_full_sync(tmp_path: Path) -> None:
    store = _store(tmp_path / "aegis.db")
    try:
        statements = _traced(store)
        with store.write_batch() as batched:
            _entry(store)
    finally:
        store.close()
    assert batched is True
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert statements[0] == "BEGIN IMMEDIATE"
    assert statements[-1] == "COMMIT"
    assert statements.count("COMMIT") == 1
    assert not any(s.startswith("PRAGMA") for s in statements)  # never a relaxed level
    assert [s.split()[:3] for s in statements if s.startswith(("INSERT", "UPDATE"))] == [
        ["INSERT", "INTO", "capital_reservations"],
        ["UPDATE", "intent_sequences", "SET"],
        ["INSERT", "INTO", "orders"],
        ["INSERT", "INTO", "order_events"],
    ]


def test_a_batch_writes_the_rows_of_the_separate_writes(tmp_path: Path) -> None:
    batched, separate = _store(tmp_path / "batched.db"), _store(tmp_path / "separate.db")
    try:
        with batched.write_batch():
            _entry(batched)
        _entry(separate)
    finally:
        batched.close()
        separate.close()
    written = _rows(tmp_path / "batched.db")
    assert written == _rows(tmp_path / "separate.db")
    assert len(written["orders"]) == 1
    assert len(written["capital_reservations"]) == 1


def test_nothing_is_visible_before_the_intent_commits(tmp_path: Path) -> None:
    path = tmp_path / "aegis.db"
    store = _store(path)
    try:
        with store.write_batch():
            assert store.reserve_capital(TENANT, "bot1", "bot1.1", Decimal(5), Decimal(10),
                                         durable=False)  # fmt: skip
            reserved_meanwhile = _rows(path)["capital_reservations"]
            store.record_intent(TENANT, make_order(client_id="bot1.1"))
            after_intent = _rows(path)
    finally:
        store.close()
    assert reserved_meanwhile == []
    assert len(after_intent["capital_reservations"]) == 1
    assert len(after_intent["orders"]) == 1


def test_a_failed_intent_rolls_its_reservation_back(tmp_path: Path) -> None:
    path = tmp_path / "aegis.db"
    store = _store(path)
    try:
        store.record_intent(TENANT, make_order(client_id="bot1.1"))
        with store.write_batch():
            assert store.reserve_capital(TENANT, "bot1", "bot1.1", Decimal(5), Decimal(10),
                                         durable=False)  # fmt: skip
            with pytest.raises(DuplicateIntent, match=r"bot1\.1"):
                store.record_intent(TENANT, make_order(client_id="bot1.1"))
        assert store.reserved_capital(TENANT, "bot1") == Decimal(0)
        with store.write_batch():  # the connection still works
            _entry(store, "bot1.2")
    finally:
        store.close()
    written = _rows(path)
    assert len(written["orders"]) == 2  # bot1.1 (before the batch) and bot1.2
    assert len(written["capital_reservations"]) == 1  # bot1.2's only


def test_a_reservation_without_an_intent_is_committed_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "aegis.db"
    store = _store(path)
    try:
        with store.write_batch():
            assert store.reserve_capital(TENANT, "bot1", "bot1.1", Decimal(5), Decimal(10),
                                         durable=False)  # fmt: skip
        assert store.reserved_capital(TENANT, "bot1") == Decimal(5)
    finally:
        store.close()
    assert len(_rows(path)["capital_reservations"]) == 1


def test_another_write_of_the_thread_commits_the_open_batch_first(tmp_path: Path) -> None:
    path = tmp_path / "aegis.db"
    store = _store(path)
    driver = store._driver
    assert driver is not None
    driver._cursor().execute("PRAGMA busy_timeout=50")  # a wait for the lock fails fast
    try:
        with store.write_batch():
            assert store.reserve_capital(TENANT, "bot1", "bot1.1", Decimal(5), Decimal(10),
                                         durable=False)  # fmt: skip
            # a bot never seen: ensure_bot writes through SQLAlchemy on another connection
            store.record_intent(TENANT, make_order("bot2", client_id="bot2.1"))
    finally:
        store.close()
    written = _rows(path)
    assert len(written["capital_reservations"]) == 1
    assert len(written["orders"]) == 1


def test_a_busy_or_nested_batch_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "aegis.db"
    store = _store(path)
    driver = store._driver
    assert driver is not None
    try:
        with store.write_batch() as outer, store.write_batch() as inner:
            _entry(store, "bot1.1")
        results: list[bool] = []
        with driver._lock:  # another thread is writing on the driver connection

            def batch() -> None:
                with store.write_batch() as busy:
                    results.append(busy)
                    _entry(store, "bot1.2")

            worker = threading.Thread(target=batch)
            worker.start()
            worker.join(30)
    finally:
        store.close()
    assert (outer, inner) == (True, False)
    assert results == [False]
    assert len(_rows(path)["orders"]) == 2
