"""Reconciliation against the emulator through CcxtVenue and a real store (RC1, RC2, issue 4 §4).

State is changed behind the bot's back: another client on the same account, fills the bot never
applied, a position closed by hand, more than 1,000 historical orders.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from tests.emulator_accounts import place_filled_market_orders
from tests.integration.reconcile.conftest import KEY, SYMBOL

from aegis.execution.reconcile import (
    HealAction,
    MismatchKind,
    ReconcilePolicy,
    Reconciler,
    resolve_pending,
)
from aegis.model import (
    Order,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
)
from aegis.store import Store
from aegis.venues.ccxt import CcxtVenue
from aegis.venues.emulator.server import EmulatorServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

K = MismatchKind
S = OrderStatus
TENANT, BOT = "tenant-r", "bot-r"
_ticks = itertools.count(1_800_000_000_000_000_000, 1_000)


def clock() -> int:
    return next(_ticks)


def _reconciler(venue: CcxtVenue, store: Store, policy: ReconcilePolicy) -> Reconciler:
    return Reconciler(venue, store, TENANT, BOT, policy, symbols=[SYMBOL], clock=clock)


def _intent(cid: str, quantity: str, *, side: OrderSide = OrderSide.BUY,
            price: Decimal | None = None) -> Order:  # fmt: skip
    return Order(
        client_order_id=cid,
        bot_id=BOT,
        symbol=SYMBOL,
        side=side,
        type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=Decimal(quantity),
        price=price,
        status=S.SUBMITTED,
        created_ns=clock(),
    )


async def _submit(venue: CcxtVenue, store: Store, order: Order, *, record_ack: bool) -> Order:
    """Write the intent first (OR2), send it, and store the acknowledgement if asked."""
    stored = store.record_intent(TENANT, order)
    update = await venue.submit(stored)
    assert update.kind is OrderEventKind.ACCEPT
    if not record_ack:
        return stored
    after = stored.apply(update)
    store.apply_order_update(TENANT, after, update)
    return after


async def _limit_price(venue: CcxtVenue, factor: str) -> Decimal:
    last = await venue.last_price(SYMBOL)
    assert last is not None
    return venue.instruments()[SYMBOL].round_price(last * Decimal(factor), OrderSide.BUY)


async def test_order_placed_by_another_client_is_adopted(
    venue: CcxtVenue, store: Store, other_client: Any, server: EmulatorServer
) -> None:
    price = await _limit_price(venue, "0.9")
    await other_client.create_order(SYMBOL, "limit", "buy", 20, float(price),
                                    params={"newClientOrderId": "manual-limit"})  # fmt: skip
    await other_client.create_order(SYMBOL, "market", "buy", 30,
                                    params={"newClientOrderId": "manual-market"})  # fmt: skip
    server.step()
    report = await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("start")
    missing = {m.client_order_id for m in report.mismatches if m.kind is K.MISSING_LOCALLY}
    assert {"manual-limit", "manual-market"} <= missing
    assert {o.action for o in report.outcomes} == {HealAction.ADOPTED}
    resting = store.get_order(TENANT, "manual-limit")
    filled = store.get_order(TENANT, "manual-market")
    assert resting is not None
    assert filled is not None
    assert (resting.status, resting.price, resting.quantity) == (S.ACCEPTED, price, Decimal(20))
    assert (filled.status, filled.filled_quantity) == (S.FILLED, Decimal(30))
    assert [p.quantity for p in store.positions(TENANT, BOT)] == [Decimal(30)]
    assert (await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("periodic")).is_clean


async def test_fills_missed_while_the_stream_was_down_are_adopted_exactly(
    venue: CcxtVenue, store: Store, server: EmulatorServer
) -> None:
    for n, (quantity, side) in enumerate([("40", OrderSide.BUY), ("15", OrderSide.SELL),
                                          ("25", OrderSide.BUY)]):  # fmt: skip
        await _submit(venue, store, _intent(f"bot-m-{n}", quantity, side=side), record_ack=True)
    server.step()  # the orders fill; the bot never hears about it
    report = await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("reconnect")
    assert report.count(K.MISSING_LOCALLY) == 3  # the three fills
    assert report.count(K.STATUS_DRIFT) == 3
    assert report.count(K.POSITION_DRIFT) == 1
    assert {o.action for o in report.outcomes} == {HealAction.ADOPTED}
    on_venue = sorted(await venue.fetch_fills(SYMBOL), key=lambda f: f.trade_id)
    stored = sorted(store.fills(TENANT, BOT), key=lambda f: f.trade_id)
    fields = ("client_order_id", "trade_id", "side", "price", "quantity", "fee", "ts_ns")
    assert [[getattr(f, k) for k in fields] for f in stored] == [
        [getattr(f, k) for k in fields] for f in on_venue
    ]
    assert {o.status for o in store.orders(TENANT, BOT)} == {S.FILLED}
    [position] = [p for p in store.positions(TENANT, BOT) if p.quantity]
    [venue_position] = await venue.fetch_positions()
    assert (position.side, position.quantity) == (venue_position.side, venue_position.quantity)
    assert position.quantity == Decimal(50)
    assert (await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("periodic")).is_clean


async def test_position_closed_by_hand_is_a_position_drift_and_is_adopted(
    venue: CcxtVenue, store: Store, other_client: Any, server: EmulatorServer
) -> None:
    await _submit(venue, store, _intent("bot-p-1", "60"), record_ack=True)
    server.step()
    assert not (await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("start")).is_clean
    assert (await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("periodic")).is_clean
    await other_client.create_order(SYMBOL, "market", "sell", 60,
                                    params={"reduceOnly": True,
                                            "newClientOrderId": "closed-by-hand"})  # fmt: skip
    server.step()
    report = await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("periodic")
    drift = [m for m in report.mismatches if m.kind is K.POSITION_DRIFT]
    assert [(m.position_side, m.local_value, m.venue_value) for m in drift] == [
        (PositionSide.LONG, "60", None)
    ]
    assert {o.action for o in report.outcomes} == {HealAction.ADOPTED}
    assert all(p.quantity == 0 for p in store.positions(TENANT, BOT))
    assert (await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("periodic")).is_clean


async def test_more_than_1000_historical_orders_are_all_compared(
    venue: CcxtVenue, store: Store, server: EmulatorServer
) -> None:
    place_filled_market_orders(server, KEY, 1_100, "hist")
    report = await _reconciler(venue, store, ReconcilePolicy.ALERT).run("start")
    orders = {m.client_order_id for m in report.mismatches
              if m.kind is K.MISSING_LOCALLY and m.field == "order"}  # fmt: skip
    fills = [m for m in report.mismatches if m.kind is K.MISSING_LOCALLY and m.field == "fill"]
    assert orders == {f"hist-{n}" for n in range(1_100)}
    assert len(fills) == 1_100
    assert report.records_checked >= 2_200
    # alert policy: recorded, not applied
    assert store.orders(TENANT, BOT) == []
    assert store.fills(TENANT, BOT) == []
    assert len(store.reconciliation_mismatches(TENANT, report.run_id)) == len(report.outcomes)


async def test_alert_policy_records_without_changing_local_state(
    venue: CcxtVenue, store: Store, other_client: Any, server: EmulatorServer
) -> None:
    await _submit(venue, store, _intent("bot-a-1", "20"), record_ack=True)
    await other_client.create_order(SYMBOL, "market", "buy", 10,
                                    params={"newClientOrderId": "other-a"})  # fmt: skip
    server.step()
    before = (store.orders(TENANT, BOT), store.fills(TENANT, BOT), store.positions(TENANT, BOT))
    alerts: list[object] = []
    reconciler = _reconciler(venue, store, ReconcilePolicy.ALERT)
    reconciler.on_alert = alerts.append
    report = await reconciler.run("periodic")
    assert alerts == [report]
    assert {o.action for o in report.outcomes} == {HealAction.ALERTED}
    kinds = {m.kind for m in report.mismatches}
    assert {K.MISSING_LOCALLY, K.STATUS_DRIFT, K.QUANTITY_DRIFT, K.POSITION_DRIFT} <= kinds
    after = (store.orders(TENANT, BOT), store.fills(TENANT, BOT), store.positions(TENANT, BOT))
    assert after == before
    recorded = store.reconciliation_mismatches(TENANT, report.run_id)
    assert {r.action for r in recorded} == {"alerted"}
    assert len(recorded) == len(report.outcomes)


async def test_pending_orders_are_resolved_against_the_emulator(
    venue: CcxtVenue, store: Store, server: EmulatorServer
) -> None:
    price = await _limit_price(venue, "0.9")
    await _submit(venue, store, _intent("pend-filled", "20"), record_ack=False)
    await _submit(venue, store, _intent("pend-resting", "20", price=price), record_ack=False)
    store.record_intent(TENANT, _intent("pend-lost", "20"))  # crashed before the wire
    store.record_intent(TENANT, _intent("pend-new", "20").replace(status=S.NEW))
    server.step()
    results = await resolve_pending(venue, store, TENANT, BOT, clock=clock)
    assert {r.client_order_id: (r.status, r.venue_status) for r in results} == {
        "pend-filled": (S.FILLED, S.FILLED),
        "pend-resting": (S.ACCEPTED, S.ACCEPTED),
        "pend-lost": (S.REJECTED, None),
        "pend-new": (S.REJECTED, None),
    }
    assert [o.client_order_id for o in store.pending_orders(TENANT, BOT)] == ["pend-resting"]
    [stored_fill] = store.fills(TENANT, BOT)
    assert (stored_fill.client_order_id, stored_fill.quantity) == ("pend-filled", Decimal(20))
    # recovery and the reconciler agree afterwards: nothing left to heal
    assert (await _reconciler(venue, store, ReconcilePolicy.ADOPT).run("start")).is_clean
