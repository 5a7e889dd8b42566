"""Reconciliation of a bot's stored state with its venue (RC1-RC3, issue 4 section 4).

``compare_states`` is the pure core; ``Reconciler`` fetches everything, compares, records and
heals by policy; ``resolve_pending`` is the startup recovery of pending orders. Both use
``aegis.model.PENDING_STATUSES`` (RC3). ``TradeTracker`` and ``apply_fill`` derive the round
trips a fill implies, for the runtime's journal and for adopted fills alike, from what
``stored_legs_and_trades`` reads back. Imported directly
by the engine: ``from aegis.execution.reconcile import Reconciler``.
"""

from aegis.execution.reconcile._positions import PositionBook, split_one_way_flip
from aegis.execution.reconcile._trades import TradeTracker, apply_fill, stored_legs_and_trades
from aegis.execution.reconcile._types import (
    HealAction,
    LocalState,
    Mismatch,
    MismatchKind,
    ReconcilePolicy,
    RecordKind,
    Tolerances,
    VenueState,
    venue_key,
)
from aegis.execution.reconcile.compare import compare_states
from aegis.execution.reconcile.heal import ADOPTED_TAG, UNKNOWN_ORDER_RULES, OrderHealer
from aegis.execution.reconcile.reconciler import (
    DEFAULT_INTERVAL_S,
    TRIGGER_KILL,
    TRIGGER_PERIODIC,
    TRIGGER_RECONNECT,
    TRIGGER_START,
    AlertCallback,
    MismatchOutcome,
    Reconciler,
    ReconciliationReport,
)
from aegis.execution.reconcile.recovery import TRIGGER_RECOVERY, PendingResolution, resolve_pending

__all__ = [
    "ADOPTED_TAG",
    "DEFAULT_INTERVAL_S",
    "TRIGGER_KILL",
    "TRIGGER_PERIODIC",
    "TRIGGER_RECONNECT",
    "TRIGGER_RECOVERY",
    "TRIGGER_START",
    "UNKNOWN_ORDER_RULES",
    "AlertCallback",
    "HealAction",
    "LocalState",
    "Mismatch",
    "MismatchKind",
    "MismatchOutcome",
    "OrderHealer",
    "PendingResolution",
    "PositionBook",
    "ReconcilePolicy",
    "Reconciler",
    "ReconciliationReport",
    "RecordKind",
    "Tolerances",
    "TradeTracker",
    "VenueState",
    "apply_fill",
    "compare_states",
    "resolve_pending",
    "split_one_way_flip",
    "stored_legs_and_trades",
    "venue_key",
]
