"""Engine: the order pipeline shared by backtest, paper and live trading (BT1), and the runtime.

The runtime modules (``runtime``, ``session``, ``paper``, ``http``...) import asyncio, feeds and
venues; they are loaded on first use so ``aegis backtest`` does not pay for them.
"""

from typing import TYPE_CHECKING, Any

from aegis.engine.pipeline import FillListener, SyncVenue, TradingPipeline

if TYPE_CHECKING:
    from aegis.engine.applier import UpdateApplier
    from aegis.engine.durable import Durability
    from aegis.engine.guards import PositionLocks
    from aegis.engine.journal import DatabaseUnavailable, DurableJournal
    from aegis.engine.metrics import RuntimeMetrics
    from aegis.engine.paper import PaperVenue
    from aegis.engine.preflight import PreflightFailed, PreflightReport
    from aegis.engine.risk_gate import RiskGate
    from aegis.engine.runtime import RuntimeOptions, TradingRuntime
    from aegis.engine.services import DurableServices
    from aegis.engine.session import RunSession, SessionInfo, SessionResult
    from aegis.engine.supervisor import Supervisor
    from aegis.engine.venue_stream import VenueUserStream
    from aegis.engine.watchdog import FillWatchdog

__all__ = [
    "DatabaseUnavailable",
    "Durability",
    "DurableJournal",
    "DurableServices",
    "FillListener",
    "FillWatchdog",
    "PaperVenue",
    "PositionLocks",
    "PreflightFailed",
    "PreflightReport",
    "RiskGate",
    "RunSession",
    "RuntimeMetrics",
    "RuntimeOptions",
    "SessionInfo",
    "SessionResult",
    "Supervisor",
    "SyncVenue",
    "TradingPipeline",
    "TradingRuntime",
    "UpdateApplier",
    "VenueUserStream",
]

_LAZY = {
    "DatabaseUnavailable": "aegis.engine.journal",
    "DurableJournal": "aegis.engine.journal",
    "Durability": "aegis.engine.durable",
    "DurableServices": "aegis.engine.services",
    "PositionLocks": "aegis.engine.guards",
    "RiskGate": "aegis.engine.risk_gate",
    "UpdateApplier": "aegis.engine.applier",
    "RuntimeMetrics": "aegis.engine.metrics",
    "PaperVenue": "aegis.engine.paper",
    "PreflightFailed": "aegis.engine.preflight",
    "PreflightReport": "aegis.engine.preflight",
    "RuntimeOptions": "aegis.engine.runtime",
    "TradingRuntime": "aegis.engine.runtime",
    "RunSession": "aegis.engine.session",
    "SessionInfo": "aegis.engine.session",
    "SessionResult": "aegis.engine.session",
    "Supervisor": "aegis.engine.supervisor",
    "FillWatchdog": "aegis.engine.watchdog",
    "VenueUserStream": "aegis.engine.venue_stream",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aegis.engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
