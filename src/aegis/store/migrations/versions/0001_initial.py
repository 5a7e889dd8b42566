"""Create the initial schema: tenants, bots, orders, fills, positions, trades, journals.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aegis.store.types import ExactDecimal

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "balance_snapshots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=64), nullable=False),
        sa.Column("total", ExactDecimal(), nullable=False),
        sa.Column("free", ExactDecimal(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_balance_snapshots_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_snapshots")),
    )
    op.create_index(
        "ix_balance_snapshots_tenant_ts", "balance_snapshots", ["tenant_id", "ts_ns"], unique=False
    )
    op.create_table(
        "bots",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_bots_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "bot_id", name=op.f("pk_bots")),
    )
    op.create_table(
        "instruments",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("base", sa.String(length=64), nullable=False),
        sa.Column("quote", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("tick_size", ExactDecimal(), nullable=False),
        sa.Column("step_size", ExactDecimal(), nullable=False),
        sa.Column("min_qty", ExactDecimal(), nullable=False),
        sa.Column("max_qty", ExactDecimal(), nullable=False),
        sa.Column("market_min_qty", ExactDecimal(), nullable=False),
        sa.Column("market_max_qty", ExactDecimal(), nullable=False),
        sa.Column("min_notional", ExactDecimal(), nullable=False),
        sa.Column("min_price", ExactDecimal(), nullable=True),
        sa.Column("max_price", ExactDecimal(), nullable=True),
        sa.Column("contract_size", ExactDecimal(), nullable=False),
        sa.Column("maker_fee_rate", ExactDecimal(), nullable=False),
        sa.Column("taker_fee_rate", ExactDecimal(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_instruments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "venue", "symbol", name=op.f("pk_instruments")),
    )
    op.create_table(
        "thoughts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=True),
        sa.Column("strategy", sa.String(length=128), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_thoughts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thoughts")),
    )
    op.create_index("ix_thoughts_tenant_ts", "thoughts", ["tenant_id", "ts_ns"], unique=False)
    op.create_table(
        "bot_state_snapshots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bot_id"],
            ["bots.tenant_id", "bots.bot_id"],
            name=op.f("fk_bot_state_snapshots_tenant_id_bots"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_bot_state_snapshots_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_state_snapshots")),
    )
    op.create_index(
        "ix_bot_state_snapshots_tenant_bot",
        "bot_state_snapshots",
        ["tenant_id", "bot_id", "id"],
        unique=False,
    )
    op.create_table(
        "intent_sequences",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("next_sequence", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bot_id"],
            ["bots.tenant_id", "bots.bot_id"],
            name=op.f("fk_intent_sequences_tenant_id_bots"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "bot_id", name=op.f("pk_intent_sequences")),
    )
    op.create_table(
        "orders",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=True),
        sa.Column("stop_price", ExactDecimal(), nullable=True),
        sa.Column("time_in_force", sa.String(length=32), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("position_side", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("filled_quantity", ExactDecimal(), nullable=False),
        sa.Column("average_fill_price", ExactDecimal(), nullable=True),
        sa.Column("venue_order_id", sa.String(length=64), nullable=True),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.Column("recorded_ns", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bot_id"],
            ["bots.tenant_id", "bots.bot_id"],
            name=op.f("fk_orders_tenant_id_bots"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_orders_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "client_order_id", name=op.f("pk_orders")),
    )
    op.create_index(
        "ix_orders_tenant_bot_status", "orders", ["tenant_id", "bot_id", "status"], unique=False
    )
    op.create_index(
        "ix_orders_tenant_venue_order_id", "orders", ["tenant_id", "venue_order_id"], unique=False
    )
    op.create_table(
        "positions",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("average_entry_price", ExactDecimal(), nullable=False),
        sa.Column("realised_pnl", ExactDecimal(), nullable=False),
        sa.Column("fees_paid", ExactDecimal(), nullable=False),
        sa.Column("funding_received", ExactDecimal(), nullable=False),
        sa.Column("contract_size", ExactDecimal(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bot_id"],
            ["bots.tenant_id", "bots.bot_id"],
            name=op.f("fk_positions_tenant_id_bots"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_positions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "bot_id", "symbol", "side", name=op.f("pk_positions")),
    )
    op.create_table(
        "trades",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("trade_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column("entry_ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("exit_ts_ns", sa.BigInteger(), nullable=True),
        sa.Column("entry_price", ExactDecimal(), nullable=False),
        sa.Column("exit_price", ExactDecimal(), nullable=True),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("pnl", ExactDecimal(), nullable=False),
        sa.Column("fees", ExactDecimal(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bot_id"],
            ["bots.tenant_id", "bots.bot_id"],
            name=op.f("fk_trades_tenant_id_bots"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_trades_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "bot_id", "trade_id", name=op.f("pk_trades")),
    )
    op.create_index(
        "ix_trades_tenant_bot_open", "trades", ["tenant_id", "bot_id", "is_open"], unique=False
    )
    op.create_table(
        "fills",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("trade_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("fee", ExactDecimal(), nullable=False),
        sa.Column("fee_currency", sa.String(length=64), nullable=False),
        sa.Column("liquidity", sa.String(length=32), nullable=False),
        sa.Column("position_side", sa.String(length=32), nullable=True),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("recorded_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_order_id"],
            ["orders.tenant_id", "orders.client_order_id"],
            name=op.f("fk_fills_tenant_id_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_fills_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint(
            "tenant_id", "client_order_id", "trade_id", name="uq_fills_tenant_order_trade"
        ),
    )
    op.create_index(
        "ix_fills_tenant_bot_ts", "fills", ["tenant_id", "bot_id", "ts_ns"], unique=False
    )
    op.create_table(
        "order_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("previous_status", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("recorded_ns", sa.BigInteger(), nullable=False),
        sa.Column("venue_order_id", sa.String(length=64), nullable=True),
        sa.Column("trade_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_order_id"],
            ["orders.tenant_id", "orders.client_order_id"],
            name=op.f("fk_order_events_tenant_id_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_order_events_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(
        "ix_order_events_tenant_order",
        "order_events",
        ["tenant_id", "client_order_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("order_events")
    op.drop_table("fills")
    op.drop_table("trades")
    op.drop_table("positions")
    op.drop_table("orders")
    op.drop_table("intent_sequences")
    op.drop_table("bot_state_snapshots")
    op.drop_table("thoughts")
    op.drop_table("instruments")
    op.drop_table("bots")
    op.drop_table("balance_snapshots")
    op.drop_table("tenants")
