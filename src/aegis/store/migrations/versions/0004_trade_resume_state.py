"""Add to trades what a restart needs to resume an open trade exactly.

``leg_net_at_open`` / ``leg_fees_at_open``: the leg's net realised PnL and fees when the trade
opened; ``exited_quantity`` / ``exit_notional``: the quantity exited so far and its notional.
Nullable: rows written before this revision keep NULL there, and the tracker then falls back to
reconstructing the baseline from the stored ``pnl`` and ``fees``.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aegis.store.types import ExactDecimal

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = ("leg_net_at_open", "leg_fees_at_open", "exited_quantity", "exit_notional")


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("trades", sa.Column(name, ExactDecimal(), nullable=True))


def downgrade() -> None:
    # SQLite drops columns only by rebuilding the table (batch mode)
    with op.batch_alter_table("trades") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
