"""The journal's ordered writer thread: order kept, failures to the backlog, intents first."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

from sqlalchemy.exc import OperationalError

from aegis.engine.journal import DurableJournal
from aegis.engine.journal_writer import Job, OrderedWriter


class _Store:
    """The part of ``Store`` the journal's thought writes use; fails while ``down`` is set."""

    def __init__(self) -> None:
        self.thoughts: list[str] = []
        self.threads: set[int] = set()
        self.down = False

    def record_thought(self, tenant: str, bot: str, text: str, **fields: Any) -> None:
        self.threads.add(threading.get_ident())
        if self.down:
            raise OperationalError("INSERT INTO thoughts", {}, Exception("database is locked"))
        self.thoughts.append(text)


def test_writes_run_in_submission_order_off_the_calling_thread() -> None:
    done: list[int] = []
    threads: set[int] = set()

    def run(write: Any) -> None:
        threads.add(threading.get_ident())
        write()

    writer = OrderedWriter("t", run, lambda jobs, error: None)
    for n in range(200):
        assert writer.submit(f"w{n}", functools.partial(done.append, n))
    assert writer.drain(timeout_s=10)
    assert done == list(range(200))
    assert writer.pending == 0
    assert threading.get_ident() not in threads


def test_a_failure_hands_over_the_failed_write_and_all_behind_it_in_order() -> None:
    handed: list[tuple[list[str], str]] = []
    release = threading.Event()

    def run(write: Any) -> None:
        write()

    def fail() -> None:
        release.wait(10)  # hold the writer so that the next writes queue behind this one
        raise RuntimeError("boom")

    def on_failure(jobs: list[Job], error: BaseException) -> None:
        handed.append(([name for name, _ in jobs], str(error)))

    writer = OrderedWriter("t", run, on_failure)
    assert writer.submit("bad", fail)
    assert writer.submit("next1", lambda: None)
    assert writer.submit("next2", lambda: None)
    release.set()
    assert writer.drain(timeout_s=10)
    assert handed == [(["bad", "next1", "next2"], "boom")]
    assert writer.is_stopped
    assert not writer.submit("refused", lambda: None)
    writer.resume()
    assert writer.submit("again", lambda: None)
    assert writer.drain(timeout_s=10)


def test_no_queued_write_starts_while_an_urgent_write_is_in_progress() -> None:
    done: list[str] = []

    def run(write: Any) -> None:
        write()

    writer = OrderedWriter("t", run, lambda jobs, error: None)
    with writer.urgent():
        assert writer.submit("queued", lambda: done.append("queued"))
        # the queued write waits for the urgent one: nothing runs while it is held
        assert not writer.drain(timeout_s=0.05)
        done.append("urgent")
    assert writer.drain(timeout_s=10)
    assert done == ["urgent", "queued"]


def test_journal_writes_on_its_thread_and_an_outage_keeps_everything_in_order() -> None:
    async def scenario() -> None:
        store = _Store()
        journal = DurableJournal(store, "t", "bot1", {})  # type: ignore[arg-type]  # fake store
        events: list[tuple[bool, str]] = []
        journal.on_availability = lambda ok, reason: events.append((ok, reason))
        journal.start_writer()
        journal.record_thought("one")
        assert journal.drain(timeout_s=10)
        assert store.thoughts == ["one"]
        assert threading.get_ident() not in store.threads

        store.down = True
        journal.record_thought("two")
        assert journal.drain(timeout_s=10)
        # the failure is reported on the loop's thread: no decision until the backlog is written
        assert journal.is_available is False
        assert [ok for ok, _ in events] == [False]
        assert "thought" in events[0][1]
        journal.record_thought("three")  # behind "two", in the backlog
        assert journal.backlog == 2
        assert journal.flush() is False  # still down: kept, in order

        store.down = False
        assert journal.flush()
        assert journal.is_available
        assert events[-1][0] is True
        journal.record_thought("four")  # the writer thread takes writes again
        assert journal.drain(timeout_s=10)
        assert store.thoughts == ["one", "two", "three", "four"]

    asyncio.run(scenario())


def test_a_hold_keeps_queued_writes_from_starting_until_it_ends() -> None:
    started = threading.Event()
    writer = OrderedWriter("t", _run, lambda jobs, error: None)
    with writer.hold(max_s=60.0):
        assert writer.is_held
        assert writer.submit("thought", started.set)
        # the writer thread is up and has the job, but starts nothing while the loop holds it
        assert not started.wait(0.1)
        assert writer.pending == 1
    assert not writer.is_held
    assert started.wait(10)
    assert writer.drain(timeout_s=10)


def test_a_hold_ends_by_itself_after_its_bound() -> None:
    started = threading.Event()
    writer = OrderedWriter("t", _run, lambda jobs, error: None)
    with writer.hold(max_s=0.05):
        assert writer.submit("thought", started.set)
        assert started.wait(10)  # a venue call that hangs never keeps the journal waiting
        assert not writer.is_held


def test_drain_does_not_wait_for_a_hold() -> None:
    done: list[str] = []
    writer = OrderedWriter("t", _run, lambda jobs, error: None)
    with writer.hold(max_s=60.0):
        assert writer.submit("thought", lambda: done.append("thought"))
        # a snapshot drains on the loop's thread while the loop holds the writer: no deadlock
        assert writer.drain(timeout_s=10)
        assert done == ["thought"]


def _run(write: Any) -> None:
    write()
