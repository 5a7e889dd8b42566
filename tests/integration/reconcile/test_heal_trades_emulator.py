"""Fills adopted by reconciliation write the trades they imply, at a restart and while running.

Before the fix, reconciliation moved the stored legs but wrote no trade rows: an open long
closed by hand while the bot was down stayed an open trade forever (its leg flat, no fill would
ever close it), an exit missed while down counted in the trade's pnl but not in its exit price,
and a position opened by hand had no trade until its next fill. The bot here trades through the
live runtime's order path (``_runtime`` / ``_through_runtime`` of the flip test) on the
emulator; "by hand" is a second ccxt client on the same account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.integration.reconcile.conftest import SYMBOL
from tests.integration.reconcile.test_flip_emulator import (
    BOT,
    TENANT,
    _fills_of,
    _runtime,
    _through_runtime,
    clock,
)

from aegis.config import DatabaseSettings
from aegis.engine import Durability
from aegis.engine.recovery import recover
from aegis.engine.services import DurableServices
from aegis.execution.reconcile import ReconcilePolicy, Reconciler
from aegis.model import Fill, OrderSide
from aegis.store import Store, TradeRecord
from aegis.venues.ccxt import CcxtVenue
from aegis.venues.emulator.server import EmulatorServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def _adopting(venue: CcxtVenue, store: Store) -> Reconciler:
    return Reconciler(venue, store, TENANT, BOT, ReconcilePolicy.ADOPT, symbols=[SYMBOL],
                      clock=clock)  # fmt: skip


async def _by_hand(
    other_client: Any, server: EmulatorServer, venue: CcxtVenue, cid: str, side: OrderSide,
    quantity: int, *, reduce_only: bool = False,
) -> Fill:  # fmt: skip
    """A market order from another client on the bot's account; its one fill."""
    params: dict[str, Any] = {"newClientOrderId": cid}
    if reduce_only:
        params["reduceOnly"] = True
    await other_client.create_order(SYMBOL, "market", str(side), quantity, params=params)
    server.step()
    [fill] = await _fills_of(venue, cid)
    return fill


async def _restart(venue: CcxtVenue, store: Store) -> tuple[Any, Durability]:
    """A new process on the same store: start-up recovery with an adopting reconciliation."""
    runtime, durability = _runtime(venue, store)
    await recover(runtime, durability, store, reconciler=_adopting(venue, store))
    assert durability.restored.start_reconciliation == "mismatched"
    return runtime, durability


def _trades(store: Store) -> dict[str, TradeRecord]:
    return {t.trade_id: t for t in store.trades(TENANT, BOT)}


def _assert_closed(trade: TradeRecord, entry: Fill, exits: list[Fill]) -> None:
    """Closed at the quantity-weighted exit average; pnl = trading - every fee (no funding)."""
    quantity = sum((f.quantity for f in exits), Decimal(0))
    exit_price = sum((f.price * f.quantity for f in exits), Decimal(0)) / quantity
    fees = entry.fee + sum((f.fee for f in exits), Decimal(0))
    assert (trade.is_open, trade.quantity, trade.entry_price) == (False, quantity, entry.price)
    assert trade.exit_price == exit_price
    assert (trade.exited_quantity, trade.fees) == (quantity, fees)
    assert trade.pnl == (exit_price - entry.price) * quantity - fees


def _no_open_trade_on_a_flat_leg(store: Store) -> None:
    held = {(p.symbol, p.side) for p in store.positions(TENANT, BOT) if p.quantity}
    open_trades = store.trades(TENANT, BOT, is_open=True)
    assert [t.trade_id for t in open_trades if (t.symbol, t.side) not in held] == []


async def _long_then_exit_by_hand(
    venue: CcxtVenue, store: Store, server: EmulatorServer, other_client: Any, exited: int
) -> tuple[Any, Durability, Fill, Fill]:
    """The bot buys 10 and journals its trade; then ``exited`` of it is sold by hand, unseen."""
    runtime, durability = _runtime(venue, store)
    [entry] = await _through_runtime(runtime, venue, server, "bot-f.1", BUY, "10")
    assert durability.journal.flush()
    assert _trades(store)["bot-f.1:long"].is_open
    missed = await _by_hand(other_client, server, venue, "by-hand", SELL, exited,
                            reduce_only=True)  # fmt: skip
    return runtime, durability, entry, missed


async def test_a_long_closed_by_hand_while_down_closes_its_trade_at_the_restart(
    venue: CcxtVenue, store: Store, server: EmulatorServer, other_client: Any
) -> None:
    _, _, entry, exit_fill = await _long_then_exit_by_hand(venue, store, server, other_client, 10)

    await _restart(venue, store)
    assert list(_trades(store)) == ["bot-f.1:long"]
    _assert_closed(_trades(store)["bot-f.1:long"], entry, [exit_fill])
    assert store.trades(TENANT, BOT, is_open=True) == []
    _no_open_trade_on_a_flat_leg(store)
    assert (await _adopting(venue, store).run("periodic")).is_clean


async def test_an_exit_missed_while_down_counts_in_the_exit_average(
    venue: CcxtVenue, store: Store, server: EmulatorServer, other_client: Any
) -> None:
    _, _, entry, missed = await _long_then_exit_by_hand(venue, store, server, other_client, 4)

    restarted, again = await _restart(venue, store)
    [partial] = store.trades(TENANT, BOT, is_open=True)
    assert (partial.trade_id, partial.exited_quantity) == ("bot-f.1:long", Decimal(4))
    assert (partial.exit_notional, partial.exit_price) == (missed.price * 4, None)
    [live] = await _through_runtime(restarted, venue, server, "bot-f.2", SELL, "6")
    assert again.journal.flush()
    _assert_closed(_trades(store)["bot-f.1:long"], entry, [missed, live])
    _no_open_trade_on_a_flat_leg(store)


async def test_a_position_opened_by_hand_while_down_opens_a_trade_the_bot_closes(
    venue: CcxtVenue, store: Store, server: EmulatorServer, other_client: Any
) -> None:
    opened = await _by_hand(other_client, server, venue, "by-hand", BUY, 10)

    restarted, again = await _restart(venue, store)
    [trade] = store.trades(TENANT, BOT, is_open=True)
    assert (trade.trade_id, trade.quantity, trade.entry_price) == (
        "by-hand:long",
        Decimal(10),
        opened.price,
    )
    [live] = await _through_runtime(restarted, venue, server, "bot-f.1", SELL, "10")
    assert again.journal.flush()
    assert list(_trades(store)) == ["by-hand:long"]  # the exit closed it: no trade of its own
    _assert_closed(_trades(store)["by-hand:long"], opened, [live])
    _no_open_trade_on_a_flat_leg(store)


async def _heal_running(
    runtime: Any, durability: Durability, venue: CcxtVenue, store: Store
) -> None:
    """A reconciliation while the bot runs, wired as the engine wires it (heal_process)."""
    assert durability.journal.flush()  # what the process journaled is in the store
    services = DurableServices(
        runtime, durability, store, DatabaseSettings(), reconciler=None
    )  # fmt: skip
    reconciler = _adopting(venue, store)
    reconciler.on_alert = services.on_reconciliation_report
    assert not (await reconciler.run("reconnect")).is_clean


async def test_the_running_process_continues_the_trade_a_missed_exit_reduced(
    venue: CcxtVenue, store: Store, server: EmulatorServer, other_client: Any
) -> None:
    # the stream was blind: the bot never heard of this exit
    runtime, durability, entry, missed = await _long_then_exit_by_hand(
        venue, store, server, other_client, 4
    )

    await _heal_running(runtime, durability, venue, store)
    [partial] = store.trades(TENANT, BOT, is_open=True)
    assert (partial.exited_quantity, partial.exit_notional) == (Decimal(4), missed.price * 4)
    [live] = await _through_runtime(runtime, venue, server, "bot-f.2", SELL, "6")
    assert durability.journal.flush()
    assert list(_trades(store)) == ["bot-f.1:long"]
    _assert_closed(_trades(store)["bot-f.1:long"], entry, [missed, live])
    _no_open_trade_on_a_flat_leg(store)


async def test_the_running_process_closes_a_trade_a_missed_fill_opened(
    venue: CcxtVenue, store: Store, server: EmulatorServer, other_client: Any
) -> None:
    runtime, durability = _runtime(venue, store)
    opened = await _by_hand(other_client, server, venue, "by-hand", BUY, 10)

    await _heal_running(runtime, durability, venue, store)
    [trade] = store.trades(TENANT, BOT, is_open=True)
    assert (trade.trade_id, trade.quantity) == ("by-hand:long", Decimal(10))
    [live] = await _through_runtime(runtime, venue, server, "bot-f.1", SELL, "10")
    assert durability.journal.flush()
    assert list(_trades(store)) == ["by-hand:long"]
    _assert_closed(_trades(store)["by-hand:long"], opened, [live])
    _no_open_trade_on_a_flat_leg(store)


async def test_the_running_risk_engine_hears_of_a_trade_a_missed_exit_closed(
    venue: CcxtVenue, store: Store, server: EmulatorServer, other_client: Any
) -> None:
    # the loss cooldown and the Kelly history of the running bot count the round trip that the
    # reconciliation closed, once, and its mark moves past it (a restart replays nothing)
    runtime, durability, entry, exit_fill = await _long_then_exit_by_hand(
        venue, store, server, other_client, 10
    )
    before = list(durability.risk.history.pnls)

    await _heal_running(runtime, durability, venue, store)
    [closed] = store.trades(TENANT, BOT, is_open=False)
    _assert_closed(closed, entry, [exit_fill])
    assert list(durability.risk.history.pnls) == [*before, closed.pnl]
    assert durability.round_trip_marks[SYMBOL] == (closed.exit_ts_ns, closed.trade_id)
