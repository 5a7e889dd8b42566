"""A trade the start reconciliation closes from an adopted fill reaches the risk engine.

The bot's long is sold by hand while it is down (the helpers of
``test_heal_trades_emulator``): the start reconciliation adopts the fill and closes the trade;
recovery then feeds that round trip to the cooldown and the Kelly history, once.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.reconcile.test_flip_emulator import _reconciler, _runtime
from tests.integration.reconcile.test_heal_trades_emulator import (
    _long_then_exit_by_hand,
    _restart,
    _trades,
)

from aegis.engine import Durability, TradingRuntime
from aegis.engine.recovery import recover, save_snapshot
from aegis.store import Store
from aegis.venues.ccxt import CcxtVenue
from aegis.venues.emulator.server import EmulatorServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_a_trade_closed_by_an_adopted_fill_is_fed_to_the_risk_engine_at_start(
    venue: CcxtVenue, store: Store, server: EmulatorServer, other_client: Any
) -> None:
    runtime, durability, _, _ = await _long_then_exit_by_hand(
        venue, store, server, other_client, 10
    )
    await save_snapshot(store, runtime, durability)  # the entry's trade still open
    assert durability.risk.history.pnls == ()

    restarted, again = await _restart(venue, store)
    closed = _trades(store)["bot-f.1:long"]
    assert not closed.is_open
    assert again.restored.round_trips_replayed == 1
    assert again.risk.history.pnls == (closed.pnl,)
    assert again.round_trip_marks == {closed.symbol: (closed.exit_ts_ns, closed.trade_id)}

    await save_snapshot(store, restarted, again)
    _, third = await _restart_clean(venue, store)
    assert third.restored.round_trips_replayed == 0
    assert third.risk.history.pnls == (closed.pnl,)


async def _restart_clean(venue: CcxtVenue, store: Store) -> tuple[TradingRuntime, Durability]:
    """A later start with nothing left to adopt."""
    runtime, durability = _runtime(venue, store)
    await recover(runtime, durability, store, reconciler=_reconciler(venue, store))
    assert durability.restored.start_reconciliation == "clean"
    return runtime, durability
