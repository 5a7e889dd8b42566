"""The durable floor client's intent rows: committed, synced, one per order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from benchmarks._live_floor import IntentRows


def test_each_intent_is_one_committed_row_in_a_synced_wal_database(tmp_path: Path) -> None:
    rows = IntentRows(tmp_path / "floor" / "floor.db")
    rows.commit("floor.0", "BN000/USDT:USDT", "buy", "0.01")
    rows.commit("floor.1", "BN000/USDT:USDT", "sell", "0.01")
    assert rows.count() == 2
    rows.close()
    # another connection sees both rows: they were committed, not left in a transaction
    other = sqlite3.connect(tmp_path / "floor" / "floor.db")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT client_order_id, side FROM intents ORDER BY 1").fetchall() == [
        ("floor.0", "buy"),
        ("floor.1", "sell"),
    ]
    other.close()


def test_the_commit_waits_for_the_disk(tmp_path: Path) -> None:
    rows = IntentRows(tmp_path / "floor.db")
    # synchronous=FULL (2): the WAL is synced at every commit, as the store's intents are
    assert rows._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    rows.close()


def test_a_repeated_client_order_id_is_refused(tmp_path: Path) -> None:
    rows = IntentRows(tmp_path / "floor.db")
    rows.commit("floor.0", "BN000/USDT:USDT", "buy", "0.01")
    with pytest.raises(sqlite3.IntegrityError):
        rows.commit("floor.0", "BN000/USDT:USDT", "buy", "0.01")
    rows.commit("floor.1", "BN000/USDT:USDT", "sell", "0.01")  # the refused one left no transaction
    assert rows.count() == 2
    rows.close()
