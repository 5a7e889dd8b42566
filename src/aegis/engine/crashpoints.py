"""Crash points: named places in the order lifecycle where the crash-safety test kills the process.

``crash_point(name)`` is a no-op unless the environment variable ``AEGIS_CRASH_AT`` selects that
point when this module is imported. ``AEGIS_CRASH_AT=<point>:<n>`` kills the process with SIGKILL
the n-th time ``<point>`` is reached (``n`` counts from 1; ``<point>`` alone means ``<point>:1``).
A comma list (``during_reconciliation:1,before_submit:3``) arms several points; the first one
reached kills. SIGKILL, not an exception: nothing unwinds, no ``finally`` runs, no buffer is
flushed, exactly like a power cut or ``kill -9``. Just before the kill one line
``aegis_crash_point point=<point> hit=<n>`` is written to stderr, so the harness
(``benchmarks/crash_test.py``, docs/crash-safety.md) knows where each kill landed.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping
from typing import Final

__all__ = ["CRASH_AT_ENV", "CRASH_POINTS", "crash_point", "parse_crash_at"]

CRASH_AT_ENV: Final = "AEGIS_CRASH_AT"

# The points the runtime calls, in lifecycle order. Unknown names in AEGIS_CRASH_AT are refused so
# a typo cannot silently turn a crash test into a plain run.
CRASH_POINTS: Final = (
    "before_submit",
    "after_submit_before_ack",
    "after_ack_before_fill",
    "inside_transaction",
    "during_reconciliation",
)


def parse_crash_at(value: str) -> dict[str, int]:
    """Parse an ``AEGIS_CRASH_AT`` value into ``{point: hit number}``; empty means no crash.

    Raises:
        ValueError: a point is not in ``CRASH_POINTS``, is given twice, or its hit number is
            not a positive integer.
    """
    targets: dict[str, int] = {}
    for item in value.split(","):
        text = item.strip()
        if not text:
            continue
        point, separator, count_text = text.partition(":")
        point = point.strip()
        if point not in CRASH_POINTS:
            raise ValueError(
                f"{CRASH_AT_ENV}={value!r}: unknown crash point {point!r}, "
                f"expected one of {list(CRASH_POINTS)}"
            )
        if point in targets:
            raise ValueError(f"{CRASH_AT_ENV}={value!r}: crash point {point!r} given twice")
        hit_number = 1
        if separator:
            try:
                hit_number = int(count_text.strip())
            except ValueError:
                raise ValueError(
                    f"{CRASH_AT_ENV}={value!r}: hit number {count_text!r} of {point!r} "
                    "is not an integer"
                ) from None
        if hit_number < 1:
            raise ValueError(
                f"{CRASH_AT_ENV}={value!r}: hit number {hit_number} of {point!r} must be >= 1"
            )
        targets[point] = hit_number
    return targets


class _Countdown:
    """Passages left per armed point; thread-safe because the store runs in worker threads."""

    def __init__(self, targets: Mapping[str, int]) -> None:
        self._targets = dict(targets)
        self._remaining = dict(targets)
        self._lock = threading.Lock()

    def reached(self, name: str) -> int | None:
        """Count one passage of ``name``; return its hit number when this passage must kill."""
        with self._lock:
            remaining = self._remaining.get(name)
            if remaining is None:
                return None
            self._remaining[name] = remaining - 1
            return self._targets[name] if remaining == 1 else None


def _armed() -> _Countdown | None:
    targets = parse_crash_at(os.environ.get(CRASH_AT_ENV, ""))
    return _Countdown(targets) if targets else None


# Read once at import: the selection is fixed for the life of the process (the harness sets it per
# child process), and crash_point() stays one comparison when no crash is wanted.
_ARMED: Final = _armed()


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if ``AEGIS_CRASH_AT`` selects this passage of ``name``."""
    if _ARMED is None:
        return
    hit_number = _ARMED.reached(name)
    if hit_number is not None:
        # Straight to fd 2 (unbuffered): the harness log must show where the kill landed.
        os.write(2, f"aegis_crash_point point={name} hit={hit_number}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
