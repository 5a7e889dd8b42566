"""Build the durable side of a run from ``Settings``: store, journal, risk, reconciler, services.

``open_store`` opens the database (``database.url``, else ``AEGIS_DATABASE_URL``, else SQLite
``<data_dir>/aegis.db`` in WAL) and migrates it to head (PE1). ``DurableParts`` holds what
``RunSession`` wires into the runtime: the journal behind the order manager's intent seam (OR2),
the risk gate in front of the pipeline (RK1, RK2), the reconciler (RC1-RC3) and the services.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aegis.config import Settings
from aegis.engine.crashpoints import crash_point
from aegis.engine.durable import Durability
from aegis.engine.journal import DurableJournal
from aegis.engine.risk_gate import RiskGate, ToleranceBackend
from aegis.execution import OrderManager
from aegis.execution.reconcile import ReconcilePolicy, Reconciler
from aegis.risk import (
    BreakerBoard,
    BreakerSettings,
    KillSwitch,
    RiskEngine,
    RiskSettings,
    Sizer,
    TenantCapitalReservations,
    limits_from_config,
)
from aegis.store import Store, database_url_from_env
from aegis.venues.base import Venue

#: the stage of Store.apply_order_update at which the "inside_transaction" crash point fires
CRASH_STAGE = "fill"


def _fault_hook(stage: str) -> None:
    if stage == CRASH_STAGE:
        crash_point("inside_transaction")


def database_url(settings: Settings) -> str:
    """Return the database URL a run uses."""
    configured = settings.database.url
    return configured if configured else database_url_from_env(Path(settings.data_dir))


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """Open the run's store (with the crash-point fault hook) and migrate it to head."""
    store = Store(database_url(settings), fault_hook=_fault_hook)
    if migrate:
        store.upgrade()
    return store


def risk_settings(settings: Settings) -> tuple[RiskSettings, BreakerSettings]:
    """Translate the ``risk`` config section into the risk package's settings."""
    risk = settings.risk
    limits = limits_from_config(risk)  # the same translation a backtest uses
    breakers = BreakerSettings(
        stale_data_s=risk.stale_data_s,
        websocket_down_s=risk.websocket_down_s,
        error_window_s=risk.error_window_s,
        max_errors=risk.max_errors,
        max_mismatches=risk.max_mismatches,
    )
    return limits, breakers


class _CrashAfterFetch:
    """The reconciler's venue: ``during_reconciliation`` fires after the last fetch of a run."""

    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def __getattr__(self, name: str) -> Any:
        # Any: a transparent proxy of the Venue protocol
        return getattr(self._venue, name)

    async def fetch_balances(self) -> Mapping[str, Decimal]:
        balances = await self._venue.fetch_balances()
        crash_point("during_reconciliation")  # venue state fetched, nothing healed yet
        return balances


@dataclass(slots=True)
class DurableParts:
    """The durable pieces of one run."""

    store: Store
    durability: Durability
    reconciler: Reconciler | None


def build_durable(
    settings: Settings,
    store: Store,
    manager: OrderManager,
    sizer: Sizer,
    marks: Mapping[str, Decimal],
    venue: Venue,
    *,
    reconcile: bool,
) -> DurableParts:
    """Build journal, risk engine, gate and reconciler for ``manager``'s bot."""
    tenant, bot_id = settings.database.tenant, settings.bot_id
    journal = DurableJournal(store, tenant, bot_id, manager.instruments)
    limits, breaker_settings = risk_settings(settings)
    kill_switch = KillSwitch()
    risk = RiskEngine(
        limits,
        bot_id=bot_id,
        tenant=tenant,
        sizer=sizer,
        reservations=TenantCapitalReservations(ToleranceBackend(store), tenant),
        breakers=BreakerBoard(bot_id, breaker_settings),
        kill_switch=kill_switch,
    )
    gate = RiskGate(risk, manager, marks, journal=journal)
    durability = Durability(journal, risk, gate, kill_switch=kill_switch, clock_ns=time.time_ns)
    manager.intent_writer = journal.write_intent  # OR2: committed before the venue call
    reconciler = None
    if reconcile:
        # Any venue works: the proxy forwards everything and adds the crash point
        proxy: Any = _CrashAfterFetch(venue)
        reconciler = Reconciler(
            proxy,
            store,
            tenant,
            bot_id,
            ReconcilePolicy(settings.database.policy),
            symbols=settings.market.symbols,
            clock=time.time_ns,
        )
    return DurableParts(store, durability, reconciler)
