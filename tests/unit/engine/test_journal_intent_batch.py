"""``DurableJournal.intent_batch``: the store's write batch around a decision's way to its intent.

A commit left for the batch's end (a reservation whose order was never created) that fails is
an outage like any other: ``database_down`` news and ``DatabaseUnavailable``, never a raw
SQLAlchemy error escaping into the runtime.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.exc import OperationalError

from aegis.engine.journal import DatabaseUnavailable, DurableJournal


class _Store:
    """The part of ``Store`` ``intent_batch`` uses; its batch's final commit can fail."""

    def __init__(self, *, commit_fails: bool) -> None:
        self.commit_fails = commit_fails
        self.batches = 0

    @contextmanager
    def write_batch(self) -> Iterator[bool]:
        self.batches += 1
        yield True
        if self.commit_fails:
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))


def _journal(store: _Store) -> tuple[DurableJournal, list[tuple[bool, str]]]:
    journal = DurableJournal(store, "t", "bot1", {})  # type: ignore[arg-type]  # fake store
    events: list[tuple[bool, str]] = []
    journal.on_availability = lambda ok, reason: events.append((ok, reason))
    return journal, events


def test_the_block_runs_inside_the_store_batch() -> None:
    store = _Store(commit_fails=False)
    journal, events = _journal(store)
    with journal.intent_batch():
        assert store.batches == 1
    assert journal.is_available
    assert events == []


def test_a_failed_final_commit_is_an_outage() -> None:
    store = _Store(commit_fails=True)
    journal, events = _journal(store)
    with pytest.raises(DatabaseUnavailable, match="disk I/O error"), journal.intent_batch():
        pass
    assert not journal.is_available
    assert [ok for ok, _ in events] == [False]
    assert "intent transaction" in events[0][1]


def test_an_error_of_the_block_itself_passes_through() -> None:
    store = _Store(commit_fails=False)
    journal, events = _journal(store)
    with pytest.raises(ValueError, match="not a database error"), journal.intent_batch():
        raise ValueError("not a database error")
    assert journal.is_available
    assert events == []
