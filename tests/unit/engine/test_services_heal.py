"""After a reconciliation adopted orders into the store, the running process asks the venue too."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aegis.engine.services import DurableServices
from aegis.execution.reconcile import (
    HealAction,
    Mismatch,
    MismatchKind,
    MismatchOutcome,
    ReconcilePolicy,
    ReconciliationReport,
    RecordKind,
)
from aegis.model.errors import TransientVenueError

BTC, XRP, ETH = "BTC/USDT:USDT", "XRP/USDT:USDT", "ETH/USDT:USDT"


class Sync:
    """The runtime's OrderSync: records which symbols were confirmed; one may fail."""

    def __init__(self, failing: str | None = None) -> None:
        self.confirmed: list[str] = []
        self.failing = failing

    async def confirm(self, symbol: str) -> None:
        self.confirmed.append(symbol)
        if symbol == self.failing:
            raise TransientVenueError(f"fetch_order {symbol}: 503")


def _services(sync: Sync) -> DurableServices:
    runtime: Any = SimpleNamespace(order_sync=sync, record=SimpleNamespace(
        symbols={BTC: None, XRP: None}))  # fmt: skip
    services = DurableServices.__new__(DurableServices)
    services.runtime = runtime
    services.stop_event = asyncio.Event()
    return services


def _outcome(record: RecordKind, symbol: str, action: HealAction) -> MismatchOutcome:
    mismatch = Mismatch(
        kind=MismatchKind.STATUS_DRIFT, record=record, symbol=symbol, field="status",
        local_value="accepted", venue_value="cancelled", client_order_id="bot1.7",
    )  # fmt: skip
    return MismatchOutcome(mismatch, action)


def _report(*outcomes: MismatchOutcome) -> ReconciliationReport:
    return ReconciliationReport(
        run_id=3, trigger="periodic", policy=ReconcilePolicy.ADOPT, status="mismatches",
        records_checked=10, outcomes=outcomes, started_ns=0, finished_ns=1,
    )  # fmt: skip


async def test_each_symbol_with_adopted_orders_or_fills_is_confirmed_once() -> None:
    sync = Sync(failing=BTC)
    services = _services(sync)
    await services.heal_process(_report(
        _outcome(RecordKind.ORDER, XRP, HealAction.ADOPTED),
        _outcome(RecordKind.FILL, XRP, HealAction.ADOPTED),
        _outcome(RecordKind.FILL, BTC, HealAction.ADOPTED),  # fails: the next still runs
        _outcome(RecordKind.ORDER, ETH, HealAction.ADOPTED),  # not a symbol this bot trades
        _outcome(RecordKind.BALANCE, XRP, HealAction.ADOPTED),
    ))  # fmt: skip
    assert sync.confirmed == [BTC, XRP]


async def test_nothing_adopted_nothing_asked() -> None:
    sync = Sync()
    await _services(sync).heal_process(_report(
        _outcome(RecordKind.ORDER, XRP, HealAction.ALERTED),
        _outcome(RecordKind.POSITION, BTC, HealAction.ADOPTED),
    ))  # fmt: skip
    assert sync.confirmed == []
