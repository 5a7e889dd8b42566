"""The trades columns of revision 0004 (what a restart resumes from) round-trip exactly."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from aegis.model import OrderEventKind, PositionSide
from aegis.store import Store, TradeRecord

from .conftest import FEE, PRICE, QUANTITY, make_fill, make_order, update


def _write(store: Store, tenant: str, trade: TradeRecord, trade_id: str) -> None:
    """Fill an order completely and write ``trade`` in the same transaction."""
    order = store.record_intent(tenant, make_order(trade.bot_id, client_id=trade_id))
    for kind, ts_ns in ((OrderEventKind.SUBMIT, 2_000), (OrderEventKind.ACCEPT, 3_000)):
        step = update(order, kind, ts_ns)
        order = order.apply(step)
        store.apply_order_update(tenant, order, step)
    done = update(order, OrderEventKind.FILL, 4_000, fill=make_fill(order, "T-1", QUANTITY, 4_000))
    store.apply_order_update(tenant, order.apply(done), done, trade=trade)


def _open_trade(trade_id: str) -> TradeRecord:
    return TradeRecord(
        trade_id=trade_id,
        bot_id="bot1",
        symbol="BTC/USDT:USDT",
        side=PositionSide.SHORT,
        entry_ts_ns=4_000,
        entry_price=PRICE,
        quantity=QUANTITY,
        pnl=-FEE,
        fees=FEE,
        is_open=True,
        # more digits than a float holds, negative and zero: any float on the way changes them
        leg_net_at_open=Decimal("-12345.678901234567890123456789"),
        leg_fees_at_open=Decimal("0.000000000000000000000001"),
        exited_quantity=QUANTITY / 3,
        exit_notional=QUANTITY / 3 * PRICE,
    )


def test_the_resume_columns_round_trip_exactly(store: Store, tenant: str) -> None:
    trade = _open_trade("bot1.1")
    _write(store, tenant, trade, "bot1.1")
    assert store.trades(tenant, "bot1", is_open=True) == [trade]
    [stored] = store.trades(tenant, "bot1")
    assert (stored.leg_net_at_open, stored.leg_fees_at_open) == (
        Decimal("-12345.678901234567890123456789"),
        Decimal("0.000000000000000000000001"),
    )
    assert (stored.exited_quantity, stored.exit_notional) == (QUANTITY / 3, QUANTITY / 3 * PRICE)


def test_a_trade_without_the_resume_columns_reads_back_with_nulls(
    store: Store, tenant: str
) -> None:
    trade = replace(
        _open_trade("bot1.2"),
        leg_net_at_open=None,
        leg_fees_at_open=None,
        exited_quantity=None,
        exit_notional=None,
    )
    _write(store, tenant, trade, "bot1.2")
    assert store.trades(tenant, "bot1") == [trade]
