"""Add funding_payments: the perpetual funding a bot booked, one row per venue payment id.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aegis.store.types import ExactDecimal

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "funding_payments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=128), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=64), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("rate", ExactDecimal(), nullable=True),
        sa.Column("mark_price", ExactDecimal(), nullable=True),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("recorded_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bot_id"],
            ["bots.tenant_id", "bots.bot_id"],
            name=op.f("fk_funding_payments_tenant_id_bots"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_funding_payments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_payments")),
        sa.UniqueConstraint(
            "tenant_id", "bot_id", "payment_id", name="uq_funding_payments_tenant_bot_payment"
        ),
    )
    op.create_index(
        "ix_funding_payments_tenant_bot_ts",
        "funding_payments",
        ["tenant_id", "bot_id", "ts_ns"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_funding_payments_tenant_bot_ts", table_name="funding_payments")
    op.drop_table("funding_payments")
