"""Value objects the store returns besides the ``aegis.model`` types."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aegis.model import OrderEventKind, OrderStatus, PositionSide

# the order_events.kind of the row written by record_intent (not an OrderEventKind)
INTENT_EVENT = "intent"


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """A round trip of a bot (flat to flat); ``trade_id`` is chosen by the caller.

    An open trade has no exit; writing the same ``trade_id`` again replaces it (closing it).
    ``pnl`` is net of ``fees`` and of the funding the leg settled while the trade was open.
    ``exit_price`` is the quantity-weighted average of all exits once the trade is closed and
    None while it is open, even partly exited (as ``aegis.backtest.RoundTrip``).

    The last four fields let a restart resume the trade exactly (None in rows written before
    revision 0004): ``leg_net_at_open`` / ``leg_fees_at_open`` are the leg's net realised PnL
    and fees when the trade opened, ``exited_quantity`` / ``exit_notional`` the quantity exited
    so far and the sum of quantity times price of those exits.
    """

    trade_id: str
    bot_id: str
    symbol: str
    side: PositionSide
    entry_ts_ns: int
    entry_price: Decimal
    quantity: Decimal
    pnl: Decimal
    fees: Decimal
    is_open: bool
    exit_ts_ns: int | None = None
    exit_price: Decimal | None = None
    leg_net_at_open: Decimal | None = None
    leg_fees_at_open: Decimal | None = None
    exited_quantity: Decimal | None = None
    exit_notional: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderEventRecord:
    """One stored transition; ``kind`` is None for the recorded intent."""

    client_order_id: str
    kind: OrderEventKind | None
    previous_status: OrderStatus | None
    status: OrderStatus
    ts_ns: int
    venue_order_id: str | None
    trade_id: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """A bot state snapshot (PE3) and the owner that wrote it."""

    bot_id: str
    owner: str
    created_ns: int
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ThoughtRecord:
    """A stored thought: why a decision was or was not taken (ST3)."""

    bot_id: str
    text: str
    ts_ns: int
    symbol: str | None = None
    strategy: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A control action: who (``actor``), what (``action``), when, ``outcome``, details."""

    actor: str
    action: str
    outcome: str
    ts_ns: int
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BalanceSnapshot:
    """A balance reading of one currency."""

    currency: str
    total: Decimal
    free: Decimal
    ts_ns: int
    bot_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReconciliationRun:
    """One reconciliation pass; ``status`` is running, clean, mismatched or failed."""

    run_id: int
    bot_id: str
    trigger: str
    status: str
    started_ns: int
    finished_ns: int | None
    records_checked: int
    mismatch_count: int
    error: str | None


@dataclass(frozen=True, slots=True)
class ReconciliationMismatch:
    """One classified difference between the store and the venue, and what was done."""

    run_id: int
    kind: str
    subject: str
    local_value: str | None
    venue_value: str | None
    action: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class BreakerEvent:
    """A circuit breaker tripped (``action`` "trip") or resumed ("resume")."""

    breaker: str
    action: str
    reason: str
    actor: str
    ts_ns: int
    bot_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """Schema state and row counts, as ``aegis db status`` shows them."""

    url: str
    current_revision: str | None
    head_revision: str
    pending_revisions: tuple[str, ...]
    table_counts: dict[str, int]

    @property
    def is_current(self) -> bool:
        """Return True when the database is at the head revision."""
        return not self.pending_revisions and self.current_revision == self.head_revision

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "url": self.url,
            "current_revision": self.current_revision,
            "head_revision": self.head_revision,
            "pending_revisions": list(self.pending_revisions),
            "is_current": self.is_current,
            "table_counts": dict(self.table_counts),
        }


@dataclass(frozen=True, slots=True)
class PruneResult:
    """Rows deleted by ``Store.prune`` per table."""

    deleted: dict[str, int]

    @property
    def total(self) -> int:
        """Return the number of rows deleted in all tables."""
        return sum(self.deleted.values())
