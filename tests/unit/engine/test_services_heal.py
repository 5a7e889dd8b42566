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


class Durable:
    """The runtime's Durability: records each reload of the journal's position legs."""

    def __init__(self) -> None:
        self.reloads: list[object] = []

    def reload_positions(self, instruments: object) -> None:
        self.reloads.append(instruments)


def _services(sync: Sync, durable: Durable | None = None) -> DurableServices:
    runtime: Any = SimpleNamespace(
        order_sync=sync, record=SimpleNamespace(symbols={BTC: None, XRP: None}),
        pipeline=SimpleNamespace(order_manager=SimpleNamespace(instruments={"I": 1})),
    )  # fmt: skip
    services = DurableServices.__new__(DurableServices)
    services.runtime = runtime
    services.durability = durable if durable is not None else Durable()  # type: ignore[assignment]
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
    durable = Durable()
    services = _services(sync, durable)
    await services.heal_process(_report(
        _outcome(RecordKind.ORDER, XRP, HealAction.ADOPTED),
        _outcome(RecordKind.FILL, XRP, HealAction.ADOPTED),
        _outcome(RecordKind.FILL, BTC, HealAction.ADOPTED),  # fails: the next still runs
        _outcome(RecordKind.ORDER, ETH, HealAction.ADOPTED),  # not a symbol this bot trades
        _outcome(RecordKind.BALANCE, XRP, HealAction.ADOPTED),
    ))  # fmt: skip
    assert sync.confirmed == [BTC, XRP]
    # then the journal's legs are read back from the store, once
    assert durable.reloads == [{"I": 1}]


async def test_nothing_adopted_nothing_asked() -> None:
    sync = Sync()
    durable = Durable()
    await _services(sync, durable).heal_process(_report(
        _outcome(RecordKind.ORDER, XRP, HealAction.ALERTED),
        _outcome(RecordKind.POSITION, BTC, HealAction.ADOPTED),
    ))  # fmt: skip
    assert sync.confirmed == []
    assert durable.reloads == []
