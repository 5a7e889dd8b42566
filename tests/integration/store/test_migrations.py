"""A database from an older schema is migrated, never recreated; the models match head."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import insert, inspect

from aegis.engine.record import TradeTracker
from aegis.model import Fill, LiquidityRole, OrderSide, OrderStatus, Position, PositionSide
from aegis.store import Store, head_revision
from aegis.store.schema import (
    Base,
    BotRow,
    FillRow,
    IntentSequenceRow,
    OrderRow,
    TenantRow,
    TradeRow,
    table_of,
)

from .conftest import PRICE, QUANTITY, make_order


def _columns(store: Store, table: str) -> list[str]:
    return [column["name"] for column in inspect(store.engine).get_columns(table)]


def _order_row_0001(tenant: str, client_id: str, status: OrderStatus) -> dict[str, object]:
    # the 0001 columns only: orders.closed_ns arrives with 0002
    order = make_order(client_id=client_id, status=status, created_ns=10, updated_ns=20)
    return {
        "tenant_id": tenant, "client_order_id": client_id, "bot_id": order.bot_id,
        "symbol": order.symbol, "side": order.side.value, "type": order.type.value,
        "quantity": order.quantity, "price": order.price, "stop_price": order.stop_price,
        "time_in_force": order.time_in_force.value, "reduce_only": False,
        "position_side": "long", "status": status.value, "filled_quantity": QUANTITY,
        "average_fill_price": PRICE, "venue_order_id": None, "created_ns": 10,
        "updated_ns": 20, "recorded_ns": 10, "tag": "entry", "reason": None,
    }  # fmt: skip


def test_database_at_0001_with_data_is_upgraded_in_place(
    module_database: Callable[[], str],
) -> None:
    store = Store(module_database())
    try:
        store.upgrade("0001")
        status = store.status()
        assert (status.current_revision, status.pending_revisions) == (
            "0001",
            ("0002", "0003", "0004"),
        )
        assert "closed_ns" not in _columns(store, "orders")
        with store.engine.begin() as connection:
            connection.execute(insert(table_of(TenantRow)).values(id="t1", name="t1", created_ns=1))
            connection.execute(
                insert(table_of(BotRow)).values(tenant_id="t1", bot_id="bot1", created_ns=1)
            )
            connection.execute(
                insert(table_of(IntentSequenceRow)).values(
                    tenant_id="t1", bot_id="bot1", next_sequence=3
                )
            )
            rows = [
                _order_row_0001("t1", "bot1.1", OrderStatus.FILLED),
                _order_row_0001("t1", "bot1.2", OrderStatus.ACCEPTED),
            ]
            # rows without closed_ns: the INSERT names only the columns given (those of 0001)
            connection.execute(insert(table_of(OrderRow)), rows)
            connection.execute(
                insert(table_of(FillRow)).values(
                    tenant_id="t1", bot_id="bot1", client_order_id="bot1.1", trade_id="T1",
                    symbol="BTC/USDT:USDT", side="buy", price=PRICE, quantity=QUANTITY,
                    fee=QUANTITY, fee_currency="USDT", liquidity="maker", position_side="long",
                    ts_ns=15, recorded_ns=15,
                )
            )  # fmt: skip

        store.upgrade()

        status = store.status()
        assert status.is_current
        assert status.current_revision == head_revision()
        assert status.table_counts["orders"] == 2
        assert status.table_counts["fills"] == 1
        filled = store.get_order("t1", "bot1.1")
        assert filled is not None
        assert (filled.status, filled.price, filled.filled_quantity) == (
            OrderStatus.FILLED,
            PRICE,
            QUANTITY,
        )
        assert [o.client_order_id for o in store.pending_orders("t1", "bot1")] == ["bot1.2"]
        assert [f.trade_id for f in store.fills("t1")] == ["T1"]
        assert store.next_intent_sequence("t1", "bot1") == 3
        with store.engine.connect() as connection:
            closed = dict(
                connection.execute(
                    table_of(OrderRow)
                    .select()
                    .with_only_columns(
                        table_of(OrderRow).c.client_order_id, table_of(OrderRow).c.closed_ns
                    )
                ).all()
            )
        assert closed == {"bot1.1": 20, "bot1.2": None}  # backfilled for the terminal order
        assert store.audit("t1", "ops", "upgrade", "ok").action == "upgrade"  # 0002 table works
    finally:
        store.close()


def test_migrated_schema_equals_the_models(module_database: Callable[[], str]) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store(module_database())
    try:
        store.upgrade()
        with store.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        store.close()
    assert differences == []


def test_new_database_reports_every_revision_pending(module_database: Callable[[], str]) -> None:
    store = Store(module_database())
    try:
        before = store.status()
        store.upgrade()
        store.upgrade()  # idempotent at head
        after = store.status()
    finally:
        store.close()
    assert before.current_revision is None
    assert before.pending_revisions == ("0001", "0002", "0003", "0004")
    assert not before.is_current
    assert after.is_current
    assert set(after.table_counts) == {table.name for table in Base.metadata.sorted_tables}


_RESUME_COLUMNS = ("leg_net_at_open", "leg_fees_at_open", "exited_quantity", "exit_notional")


def test_trades_at_0003_are_upgraded_with_null_resume_columns_and_resume_as_before(
    module_database: Callable[[], str],
) -> None:
    store = Store(module_database())
    try:
        store.upgrade("0003")
        assert not set(_RESUME_COLUMNS) & set(_columns(store, "trades"))
        with store.engine.begin() as connection:
            connection.execute(insert(table_of(TenantRow)).values(id="t1", name="t1", created_ns=1))
            connection.execute(
                insert(table_of(BotRow)).values(tenant_id="t1", bot_id="bot1", created_ns=1)
            )
            # an open short trade: entered 2 at 110, paid 0.2 so far (the 0003 columns only)
            connection.execute(
                insert(table_of(TradeRow)).values(
                    tenant_id="t1", bot_id="bot1", trade_id="s3:short", symbol="BTC/USDT:USDT",
                    side="short", entry_ts_ns=2, exit_ts_ns=None, entry_price=Decimal(110),
                    exit_price=None, quantity=Decimal(2), pnl=Decimal("-0.2"),
                    fees=Decimal("0.2"), is_open=True, updated_ns=2,
                )
            )  # fmt: skip

        store.upgrade()

        assert store.status().current_revision == head_revision()
        assert set(_RESUME_COLUMNS) <= set(_columns(store, "trades"))
        [trade] = store.trades("t1", "bot1", is_open=True)
        assert (trade.trade_id, trade.quantity, trade.pnl) == (
            "s3:short",
            Decimal(2),
            Decimal("-0.2"),
        )
        assert [getattr(trade, name) for name in _RESUME_COLUMNS] == [None] * 4
    finally:
        store.close()
    # the fallback: the leg made 50 (net 48) in earlier trips; the stored pnl singles that out
    leg = Position("BTC/USDT:USDT", PositionSide.SHORT, Decimal(2), Decimal(110), Decimal(50),
                   Decimal("2.2"))  # fmt: skip
    tracker = TradeTracker("bot1", [trade])
    tracker.resume([leg])
    after = Position("BTC/USDT:USDT", PositionSide.SHORT, Decimal(0), Decimal(0), Decimal(60),
                     Decimal("2.4"))  # fmt: skip
    close = Fill("b2", "BTC/USDT:USDT", OrderSide.BUY, Decimal(105), Decimal(2), Decimal("0.2"),
                 "USDT", LiquidityRole.TAKER, 3, "T-b2")  # fmt: skip
    closed = tracker.on_fill(close, leg, after)
    assert (closed.is_open, closed.pnl, closed.fees, closed.exit_price) == (
        False, Decimal("9.6"), Decimal("0.4"), Decimal(105),
    )  # fmt: skip
    assert (closed.leg_net_at_open, closed.leg_fees_at_open) == (Decimal(48), Decimal(2))


def test_0004_downgrades_to_0003_keeping_the_trades(module_database: Callable[[], str]) -> None:
    from alembic import command

    from aegis.store.migrate import _config

    store = Store(module_database())
    try:
        store.upgrade()
        config = _config(store.engine)
        with store.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
            connection.commit()
        assert store.status().current_revision == "0003"
        assert not set(_RESUME_COLUMNS) & set(_columns(store, "trades"))
        store.upgrade()
        assert set(_RESUME_COLUMNS) <= set(_columns(store, "trades"))
    finally:
        store.close()
