"""Where a decision's time goes: the live bench's stage times, paired per order (diagnostics).

The runtime child stamps each candle's stages with ``--trace`` (``benchmarks._live_runtime``);
the emulator stamps the kline's publish and the order's arrival. ``perf_counter`` is the
machine-wide monotonic clock on Linux, so the stamps of both processes compare directly.

Segments: ``deliver`` (the kline frame handed to the socket -> ccxt.pro handles it),
``ccxt_to_runtime`` (-> the runtime's ``on_candle``), ``decide`` (the strategy, up to the
intent transaction), ``risk_and_intent`` (risk gate, order, capital reservation and intent in
one synced SQLite transaction), ``after_intent``, ``order_build`` (ccxt's ``create_order`` up to
its HTTP request) and ``send_and_parse`` (-> the emulator's order handler).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

SEGMENTS = (
    "deliver",
    "ccxt_to_runtime",
    "decide",
    "risk_and_intent",
    "after_intent",
    "order_build",
    "send_and_parse",
)


def _first(pairs: Sequence[Sequence[Any]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for key, stamp in pairs:
        found.setdefault(str(key), float(stamp))
    return found


def breakdown(
    publishes: Mapping[str, Sequence[float]],
    opens: Mapping[str, Sequence[int]],
    arrivals: Sequence[tuple[str, float]],
    stages: Mapping[str, Sequence[Sequence[Any]]],
    unified: Mapping[str, str],
) -> list[dict[str, float]]:
    """Return, per order arrival, its stage durations in ms (orders with a complete trace)."""
    stamps = {k: _first(stages[k]) for k in ("candle", "intent_begin", "intent_end", "prepared")}
    kline = _first(stages["kline"])
    fetches = sorted(float(t) for _, t in stages["fetch"])
    rows: list[dict[str, float]] = []
    for symbol_id, arrived in arrivals:
        times = publishes.get(symbol_id, ())
        index = bisect_right(times, arrived) - 1
        if index < 0:
            continue
        published, open_ms = times[index], opens[symbol_id][index]
        name = f"{unified.get(symbol_id, symbol_id)}:{open_ms}"
        t_kline = kline.get(f"{symbol_id}:{open_ms}")
        found = [stamps[k].get(name) for k in ("candle", "intent_begin", "intent_end", "prepared")]
        if t_kline is None or None in found:
            continue
        t_candle, t_begin, t_end, t_prepared = (float(t) for t in found if t is not None)
        at = bisect_right(fetches, t_prepared)
        if at >= len(fetches) or fetches[at] > arrived:
            continue
        marks = (published, t_kline, t_candle, t_begin, t_end, t_prepared, fetches[at], arrived)
        row = {
            segment: (b - a) * 1000
            for segment, a, b in zip(SEGMENTS, marks[:-1], marks[1:], strict=True)
        }
        row["total"] = (arrived - published) * 1000
        rows.append(row)
    return rows


def summarise(rows: list[dict[str, float]], worst: int = 6) -> dict[str, Any]:
    """Median of every segment, and the ``worst`` orders by total, segment by segment."""
    if not rows:
        return {"orders": 0}
    ordered = sorted(rows, key=lambda r: r["total"], reverse=True)
    return {
        "orders": len(rows),
        "median_ms": {k: round(median(r[k] for r in rows), 3) for k in (*SEGMENTS, "total")},
        "worst_ms": [{k: round(v, 3) for k, v in r.items()} for r in ordered[:worst]],
    }
