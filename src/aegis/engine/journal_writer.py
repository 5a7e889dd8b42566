"""One ordered writer thread for the journal's post-venue writes (PE2 off the event loop).

The writes that happen after the venue answered (order updates with their fill, position leg
and round trip, thoughts, audit and breaker rows) do not gate anything the runtime sends, so
they need not block the event loop: ``OrderedWriter`` runs them on one thread, one transaction
each, in the order they were submitted. The intent write (OR2) never comes here: it stays
synchronous and committed before the venue call.

The event loop's own synchronous writes (the intent, the capital reservation) run inside
``urgent()``: the writer starts no transaction while one is waiting, and the loop waits only
for the writer's current transaction to end, woken the moment it does. Without this the two
collide on SQLite's write lock, whose busy handler sleeps 1, 2, 5, 10... ms between retries.

``hold()`` goes further for the span between a closed candle and its order leaving: the writer
starts no queued write (it finishes the one in progress) until the hold ends, at most
``max_s`` after it began, so that the thread does not compete with the event loop for the GIL
right then (a thought written meanwhile delayed the order by ~1.3 ms on the project machine).
``drain`` overrides holds, so that a snapshot taken on the loop never waits for one.

A write that fails stops the writer: the failed write and every write queued behind it are
handed, in order, to ``on_failure`` (the journal puts them in its outage backlog and trips
``database_down``), and ``submit`` refuses new writes until ``resume``. So a write never
overtakes one submitted before it, whatever fails.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

Write = Callable[[], object]
Job = tuple[str, Write]
#: called on the writer thread with the failed job first, then the jobs queued behind it
OnFailure = Callable[[list[Job], BaseException], None]

# An idle thread exits after this long and is started again by the next write. The thread is
# not a daemon: at interpreter exit Python waits for it, so queued writes are not dropped.
_IDLE_EXIT_S: Final = 0.5
#: the longest a hold keeps queued writes from starting (a venue call that hangs is not waited)
DEFAULT_HOLD_S: Final = 0.05


class OrderedWriter:
    """Run writes one at a time, in submission order, on a worker thread; see module docstring.

    ``run(write)`` executes one job (the journal counts duplicates there); ``on_failure``
    receives the jobs that were not written when ``run`` raised.
    """

    def __init__(self, name: str, run: Callable[[Write], None], on_failure: OnFailure) -> None:
        self.name = name
        self._run = run
        self._on_failure = on_failure
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._running = False  # a job was taken from the queue and is being written
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._urgent = 0  # synchronous writes of the event loop waiting or running
        self._writing = False  # the writer thread is inside a transaction
        self._holds = 0  # hot sections of the event loop in progress (see hold())
        self._hold_until = 0.0  # monotonic time the current holds end at the latest
        self._draining = 0  # drain() callers waiting: holds are ignored meanwhile

    @property
    def pending(self) -> int:
        """Return the number of writes queued or in progress."""
        with self._cond:
            return len(self._queue) + (1 if self._running else 0)

    @property
    def is_held(self) -> bool:
        """Return True while a hold keeps queued writes from starting (see ``hold``)."""
        with self._cond:
            return self._held_for_s() > 0

    @property
    def is_stopped(self) -> bool:
        """Return True after a failure, until ``resume``."""
        with self._cond:
            return self._stopped

    def submit(self, name: str, write: Write) -> bool:
        """Queue ``write``; return False (not queued) while the writer is stopped."""
        with self._cond:
            if self._stopped:
                return False
            self._queue.append((name, write))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name=f"{self.name}-writer", daemon=False
                )
                self._thread.start()
            else:
                self._cond.notify_all()
        return True

    def drain(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued write is done (or handed over); False on timeout."""
        with self._cond:
            self._draining += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(
                    lambda: not self._queue and not self._running, timeout=timeout_s
                )
            finally:
                self._draining -= 1

    @contextmanager
    def hold(self, max_s: float = DEFAULT_HOLD_S) -> Iterator[None]:
        """Start no queued write until the block ends, or ``max_s`` after the first hold began.

        Never blocks the caller: a write in progress goes on; holds may nest or overlap.
        """
        with self._cond:
            if self._holds == 0:
                self._hold_until = time.monotonic() + max_s
            self._holds += 1
        try:
            yield
        finally:
            with self._cond:
                self._holds -= 1
                self._cond.notify_all()

    def _held_for_s(self) -> float:
        """Seconds the current holds keep writes from starting (0: free). Under the lock."""
        if not self._holds or self._draining:
            return 0.0
        return max(0.0, self._hold_until - time.monotonic())

    @contextmanager
    def urgent(self) -> Iterator[None]:
        """Run the caller's write before any queued one (after the one in progress, if any)."""
        with self._cond:
            self._urgent += 1
            self._cond.wait_for(lambda: not self._writing)
        try:
            yield
        finally:
            with self._cond:
                self._urgent -= 1
                self._cond.notify_all()

    def resume(self) -> None:
        """Accept writes again after a failure (the caller wrote the handed-over jobs)."""
        with self._cond:
            self._stopped = False

    def _wait_for_the_loop(self) -> None:
        """Under the lock: wait while the event loop writes (urgent) or holds the writer."""
        while True:
            if self._urgent:
                self._cond.wait()
                continue
            held_s = self._held_for_s()
            if held_s > 0:
                self._cond.wait(held_s)
                continue
            return

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._cond.wait_for(
                    lambda: bool(self._queue), timeout=_IDLE_EXIT_S
                ):
                    self._thread = None
                    self._cond.notify_all()
                    return
                job = self._queue.popleft()
                self._running = True
                self._wait_for_the_loop()
                self._writing = True
            try:
                self._run(job[1])
            except Exception as error:  # every failure is handed over, in order
                with self._cond:
                    self._writing = False
                    failed = [job, *self._queue]
                    self._queue.clear()
                    self._stopped = True
                # hand over before "not running": drain() returns only once the jobs are owned
                self._on_failure(failed, error)
                with self._cond:
                    self._running = False
                    self._cond.notify_all()
                continue
            with self._cond:
                self._writing = False
                self._running = False
                self._cond.notify_all()
