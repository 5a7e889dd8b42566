"""Prometheus metrics of one runtime, in its own ``CollectorRegistry`` (API3).

Counters are incremented by the runtime as things happen; gauges that mirror state kept
elsewhere (feed age, websocket reconnects, open orders) are refreshed by ``refresh`` just before
each scrape, so no background task is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from aegis.model.order import Order

# Decision latency: candle received -> order answered; buckets from 0.25 ms to 5 s.
_LATENCY_BUCKETS: Final = (
    0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip


class RuntimeMetrics:
    """The runtime's metrics; ``render()`` returns the Prometheus text exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.orders = Gauge(
            "aegis_orders", "Orders of this run by status.", ["status"], registry=registry
        )
        self.orders_submitted = Counter(
            "aegis_orders_submitted", "Orders sent to the venue.", ["symbol"], registry=registry
        )
        self.fills = Counter(
            "aegis_fills", "Fills applied to the portfolio.", ["symbol"], registry=registry
        )
        self.rejects = Counter(
            "aegis_rejects", "Orders refused, by reason.", ["reason"], registry=registry
        )
        self.decisions = Counter(
            "aegis_decisions", "Strategy decisions, by action.", ["action"], registry=registry
        )
        self.skipped_updates = Gauge(
            "aegis_skipped_order_updates",
            "Venue updates dropped as duplicates or stale.",
            ["reason"],
            registry=registry,
        )
        self.ws_reconnects = Gauge(
            "aegis_websocket_reconnects",
            "Websocket reconnects since start, by stream.",
            ["stream"],
            registry=registry,
        )
        self.feed_age = Gauge(
            "aegis_feed_age_seconds",
            "Age of the last closed candle per symbol (NaN before the first).",
            ["symbol"],
            registry=registry,
        )
        self.feed_stale = Gauge(
            "aegis_feed_stale", "1 while the symbol is stale.", ["symbol"], registry=registry
        )
        self.watchdog_recoveries = Counter(
            "aegis_watchdog_recoveries",
            "Order changes the fill watchdog learnt by REST that the user stream had lost.",
            registry=registry,
        )
        self.task_failures = Gauge(
            "aegis_task_failures", "Supervised task failures.", ["task"], registry=registry
        )
        self.decision_latency = Histogram(
            "aegis_decision_latency_seconds",
            "From a closed candle reaching the runtime to the order's venue answer.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._refreshers: list[Callable[[], None]] = []

    def add_refresher(self, refresh: Callable[[], None]) -> None:
        """Register a function that updates state-mirroring gauges before a scrape."""
        self._refreshers.append(refresh)

    def set_orders(self, orders: Mapping[str, Order]) -> None:
        """Set the orders-by-status gauge from the order manager's orders."""
        counts: dict[str, int] = {}
        for order in orders.values():
            counts[str(order.status)] = counts.get(str(order.status), 0) + 1
        self.orders.clear()
        for status, count in counts.items():
            self.orders.labels(status=status).set(count)

    def render(self) -> bytes:
        """Refresh the mirrored gauges and return the text exposition."""
        for refresh in self._refreshers:
            refresh()
        return generate_latest(self.registry)
