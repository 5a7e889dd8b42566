"""Adopted fills write the round trips they imply, from the store's open trades (real SQLite).

A fill opening a leg from flat opens its trade; a one-way flip ends the held leg's trade and
opens the next, each with its fee share, in the transaction of the two legs; a fill the stream
stored meanwhile (``DuplicateFill``) makes the healer re-read the legs and the open trades, so
the next adopted exit still averages every exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.execution.reconcile.builders import SYMBOL, fill, venue_order

from aegis.execution.reconcile import OrderHealer, PositionBook, TradeTracker, apply_fill
from aegis.model import Fill, Instrument, OrderEventKind, OrderSide, OrderStatus, OrderType
from aegis.model.enums import PositionSide
from aegis.model.events import OrderUpdate
from aegis.model.order import Order
from aegis.store import Store, TradeRecord

TENANT, BOT = "t1", "bot1"
INSTRUMENTS = {SYMBOL: Instrument.permissive(SYMBOL, quote="USDT")}
BUY, SELL = OrderSide.BUY, OrderSide.SELL
D = Decimal


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with closing(Store(f"sqlite:///{tmp_path / 'heal-trades.db'}")) as opened:
        opened.upgrade()
        yield opened


def _healer(store: Store) -> OrderHealer:
    return OrderHealer(store, TENANT, BOT, INSTRUMENTS, lambda: 9_000)


def _adopt(store: Store, cid: str, side: OrderSide, quantity: str, price: str, fee: str,
           ts_ns: int) -> Fill:  # fmt: skip
    """A market order filled on the venue only, adopted by a fresh healer (a new run)."""
    missed = fill(cid, f"trade-{cid}", quantity, price, side=side, fee=fee, ts_ns=ts_ns)
    answer = venue_order(cid, OrderStatus.FILLED, quantity=quantity, filled=quantity,
                         price=None, average=price, side=side)  # fmt: skip
    _healer(store).adopt_missing(answer, [missed])
    return missed


def _trades(store: Store) -> dict[str, TradeRecord]:
    return {t.trade_id: t for t in store.trades(TENANT, BOT)}


def test_an_adopted_fill_opens_a_trade_and_a_flip_ends_it(store: Store) -> None:
    _adopt(store, "o1", BUY, "10", "100", "1", 1_000)
    [opened] = store.trades(TENANT, BOT, is_open=True)
    assert (opened.trade_id, opened.quantity, opened.entry_price) == ("o1:long", D(10), D(100))
    assert (opened.leg_net_at_open, opened.leg_fees_at_open) == (D(0), D(0))

    _adopt(store, "o2", SELL, "30", "110", "3", 2_000)  # one-way: long 10 -> short 20
    trades = _trades(store)
    closed, short = trades["o1:long"], trades["o2:short"]
    assert (closed.is_open, closed.exit_price, closed.exit_ts_ns) == (False, D(110), 2_000)
    assert closed.fees == D(2)  # its entry fee and the flip's share for 10 of 30
    assert closed.pnl == (D(110) - D(100)) * 10 - D(2)
    assert (short.is_open, short.quantity, short.entry_price, short.fees) == (
        True,
        D(20),
        D(110),
        D(2),
    )
    legs = {p.side: p.quantity for p in store.positions(TENANT, BOT)}
    assert legs == {PositionSide.LONG: D(0), PositionSide.SHORT: D(20)}


def _stream(store: Store, cid: str, quantity: str, price: str, fee: str, ts_ns: int) -> Fill:
    """A buy the running bot's journal stored: its intent, then its fill, leg and trade."""
    streamed = fill(cid, f"trade-{cid}", quantity, price, side=BUY, fee=fee, ts_ns=ts_ns)
    order = store.record_intent(TENANT, Order(
        client_order_id=cid, bot_id=BOT, symbol=SYMBOL, side=BUY, type=OrderType.MARKET,
        quantity=D(quantity), price=None, status=OrderStatus.SUBMITTED, created_ns=ts_ns - 1,
    ))  # fmt: skip
    update = OrderUpdate(cid, OrderEventKind.FILL, ts_ns, streamed)
    tracker = TradeTracker(BOT, store.trades(TENANT, BOT, is_open=True))
    legs, trades = apply_fill(PositionBook(store.positions(TENANT, BOT), INSTRUMENTS), tracker,
                              streamed)  # fmt: skip
    store.apply_order_update(TENANT, order.apply(update), update, positions=legs, trades=trades)
    return streamed


def test_a_fill_the_stream_stored_meanwhile_reloads_the_open_trades(store: Store) -> None:
    _adopt(store, "o1", SELL, "20", "110", "2", 1_000)
    healer = _healer(store)  # reads short 20 and its open trade, none exited yet
    # meanwhile the running bot stores two partial exits
    first = _stream(store, "o2", "5", "105", "0.5", 2_000)
    _stream(store, "o3", "3", "104", "0.3", 2_500)
    stale = store.get_order(TENANT, "o2")
    assert stale is not None
    answer = venue_order("o2", OrderStatus.FILLED, quantity="5", filled="5", price=None,
                         average="105")  # fmt: skip
    healer.heal(stale.replace(status=OrderStatus.SUBMITTED), answer, [first])  # a duplicate
    assert store.trades(TENANT, BOT, is_open=True)[0].exited_quantity == D(8)
    missed = fill("o4", "trade-o4", "12", "100", side=BUY, fee="1.2", ts_ns=3_000)
    healer.adopt_missing(
        venue_order("o4", OrderStatus.FILLED, quantity="12", filled="12", price=None,
                    average="100"),
        [missed],
    )  # fmt: skip
    [closed] = store.trades(TENANT, BOT)
    exit_price = (D(5) * 105 + D(3) * 104 + D(12) * 100) / 20
    assert (closed.trade_id, closed.is_open, closed.exit_price) == ("o1:short", False, exit_price)
    assert closed.fees == D(2) + D("0.5") + D("0.3") + D("1.2")
    assert closed.pnl == (D(110) - exit_price) * 20 - closed.fees
    assert [p.quantity for p in store.positions(TENANT, BOT)] == [D(0)]
