"""Add the audit log, reconciliation, circuit breakers, capital reservations; orders.closed_ns.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aegis.store.types import ExactDecimal

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


_TERMINAL = ("filled", "cancelled", "rejected", "expired")


def upgrade() -> None:
    op.add_column("orders", sa.Column("closed_ns", sa.BigInteger(), nullable=True))
    # backfill: an order already terminal closed at its last update
    orders = sa.table(
        "orders",
        sa.column("status", sa.String()),
        sa.column("updated_ns", sa.BigInteger()),
        sa.column("closed_ns", sa.BigInteger()),
    )
    op.execute(
        orders.update().where(orders.c.status.in_(_TERMINAL)).values(closed_ns=orders.c.updated_ns)
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=128), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_log_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_tenant_ts", "audit_log", ["tenant_id", "ts_ns"], unique=False)
    op.create_table(
        "circuit_breaker_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=True),
        sa.Column("breaker", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_circuit_breaker_events_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circuit_breaker_events")),
    )
    op.create_index(
        "ix_circuit_breaker_events_tenant_ts",
        "circuit_breaker_events",
        ["tenant_id", "ts_ns"],
        unique=False,
    )
    op.create_table(
        "reconciliation_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("started_ns", sa.BigInteger(), nullable=False),
        sa.Column("finished_ns", sa.BigInteger(), nullable=True),
        sa.Column("records_checked", sa.BigInteger(), nullable=False),
        sa.Column("mismatch_count", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_reconciliation_runs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(
        "ix_reconciliation_runs_tenant_bot",
        "reconciliation_runs",
        ["tenant_id", "bot_id", "id"],
        unique=False,
    )
    op.create_table(
        "capital_reservations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("released_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bot_id"],
            ["bots.tenant_id", "bots.bot_id"],
            name=op.f("fk_capital_reservations_tenant_id_bots"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_capital_reservations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capital_reservations")),
        sa.UniqueConstraint(
            "tenant_id", "bot_id", "client_order_id", name="uq_capital_reservations_order"
        ),
    )
    op.create_index(
        "ix_capital_reservations_tenant_bot_released",
        "capital_reservations",
        ["tenant_id", "bot_id", "released_ns"],
        unique=False,
    )
    op.create_table(
        "reconciliation_mismatches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("local_value", sa.Text(), nullable=True),
        sa.Column("venue_value", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_mismatches_run_id_reconciliation_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_reconciliation_mismatches_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_mismatches")),
    )
    op.create_index(
        "ix_reconciliation_mismatches_tenant_run",
        "reconciliation_mismatches",
        ["tenant_id", "run_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("reconciliation_mismatches")
    op.drop_table("capital_reservations")
    op.drop_table("reconciliation_runs")
    op.drop_table("circuit_breaker_events")
    op.drop_table("audit_log")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("closed_ns")
