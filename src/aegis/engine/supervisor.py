"""Supervised, named asyncio tasks: the one place where ``except Exception`` is allowed.

A task that fails with a bug is logged with its traceback and counted; a *critical* task's
failure stops the whole runtime (the caller's ``wait`` returns), a non-critical one is only
reported. ``asyncio.CancelledError`` always propagates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class Supervisor:
    """Start named tasks, watch them, stop them all; see the module docstring."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.failures: Counter[str] = Counter()
        self.stop_requested = asyncio.Event()
        self.stop_reason: str | None = None

    def start(
        self, name: str, coroutine: Coroutine[Any, Any, None], *, critical: bool = True
    ) -> asyncio.Task[None]:
        """Run ``coroutine`` as task ``name``; a critical task's end stops the runtime."""
        if name in self._tasks and not self._tasks[name].done():
            coroutine.close()
            raise ValueError(f"task {name!r} is already running")
        task = asyncio.create_task(self._guard(name, coroutine, critical), name=name)
        self._tasks[name] = task
        return task

    async def _guard(self, name: str, coroutine: Coroutine[Any, Any, None], critical: bool) -> None:
        try:
            await coroutine
        except asyncio.CancelledError:
            raise
        except Exception:  # supervision boundary: log with traceback, count, stop if critical
            self.failures[name] += 1
            log.error("task_failed", task=name, critical=critical, exc_info=True)
            if critical:
                self.request_stop(f"task {name} failed")
            return
        if critical:
            log.info("task_finished", task=name)

    def request_stop(self, reason: str) -> None:
        """Ask the runtime to stop (signal, end of data, failed critical task)."""
        if not self.stop_requested.is_set():
            self.stop_reason = reason
            log.info("stop_requested", reason=reason)
            self.stop_requested.set()

    def is_running(self, name: str) -> bool:
        """Return True while task ``name`` runs."""
        task = self._tasks.get(name)
        return task is not None and not task.done()

    @property
    def names(self) -> list[str]:
        """Return the names of the tasks still running."""
        return [name for name, task in self._tasks.items() if not task.done()]

    async def cancel(self, name: str) -> None:
        """Cancel one task and wait for it to end."""
        task = self._tasks.get(name)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def cancel_all(self) -> None:
        """Cancel every task (newest first) and wait for each to end."""
        for name in reversed(list(self._tasks)):
            await self.cancel(name)
        self._tasks.clear()
