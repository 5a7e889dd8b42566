"""Pure helpers of the live and durability benches: percentiles, latency matching, CPU time."""

from __future__ import annotations

import math
import os
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the ``q``-th percentile (0..100, nearest rank) of ``values``; None when empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q!r}")
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Matched:
    """Order arrivals matched to the closed candle that caused them (seconds)."""

    latencies_s: list[float]
    unmatched: int  # an order before any candle of its symbol was published
    ambiguous: int  # an order that arrived after the next candle of its symbol was published


def match_orders(
    publishes: Mapping[str, Sequence[float]], arrivals: Iterable[tuple[str, float]]
) -> Matched:
    """Pair every order arrival with the latest kline of its symbol published before it.

    ``publishes`` maps a symbol id to its closed-kline send times (ascending); ``arrivals``
    holds ``(symbol id, arrival time)``. The runtime sends at most one order per candle, caused
    by the last candle it saw, so the latest earlier publish is the order's candle. A second
    order paired with the same candle means one of them was caused by an earlier candle and
    arrived late: it is counted as ``ambiguous`` (its latency is under-estimated), so the count
    is reported next to the figures.
    """
    latencies: list[float] = []
    unmatched = ambiguous = 0
    used: set[tuple[str, int]] = set()
    for symbol, arrived in arrivals:
        times = publishes.get(symbol, ())
        index = bisect_right(times, arrived) - 1
        if index < 0:
            unmatched += 1
            continue
        if (symbol, index) in used:
            ambiguous += 1
        used.add((symbol, index))
        latencies.append(arrived - times[index])
    return Matched(latencies, unmatched, ambiguous)


def missed_candles(
    published: Mapping[str, Iterable[int]], processed: Mapping[str, Iterable[int]]
) -> dict[str, int]:
    """Return, per symbol, how many published candle open times the runtime never processed."""
    missed: dict[str, int] = {}
    for symbol, opens in published.items():
        seen = set(processed.get(symbol, ()))
        count = sum(1 for ts in opens if ts not in seen)
        if count:
            missed[symbol] = count
    return missed


def process_cpu_seconds(pid: int, proc: Path = Path("/proc")) -> float:
    """Return user + system CPU seconds of process ``pid`` from ``/proc/<pid>/stat``."""
    text = (proc / str(pid) / "stat").read_text()
    # the command name (field 2) may hold spaces: the fields after it follow the last ")"
    fields = text[text.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")
