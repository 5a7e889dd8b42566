"""SQLAlchemy models of the store (PE1); every table carries ``tenant_id`` (TN1).

The Alembic revisions in ``migrations/versions`` build exactly this schema; a test compares
the two. Decimals use ``ExactDecimal``; timestamps are UTC nanoseconds (``*_ns``, BIGINT).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aegis.store.types import ExactDecimal

# Deterministic constraint names: Alembic needs them to alter constraints (SQLite batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# INTEGER PRIMARY KEY is SQLite's rowid alias (autoincrementing); BIGSERIAL-sized on PostgreSQL.
RowId = BigInteger().with_variant(Integer(), "sqlite")
ID = String(64)
NAME = String(128)
ENUM = String(32)


class Base(DeclarativeBase):
    """Declarative base holding the store's metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _tenant_fk() -> Mapped[str]:
    return mapped_column(ID, ForeignKey("tenants.id"), nullable=False)


class TenantRow(Base):
    """A tenant; its id is the ``tenant_id`` of every other row."""

    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    created_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class BotRow(Base):
    """A bot of a tenant; its row is the lock taken by capital reservations (RK2)."""

    __tablename__ = "bots"
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id"), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ID, primary_key=True)
    created_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class IntentSequenceRow(Base):
    """Next intent sequence number of a bot (PE4: lives in the database, not in memory)."""

    __tablename__ = "intent_sequences"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "bot_id"], ["bots.tenant_id", "bots.bot_id"]),
    )
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    bot_id: Mapped[str] = mapped_column(ID, primary_key=True)
    next_sequence: Mapped[int] = mapped_column(BigInteger, nullable=False)


class InstrumentRow(Base):
    """An instrument's filters as a venue published them."""

    __tablename__ = "instruments"
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id"), primary_key=True)
    venue: Mapped[str] = mapped_column(ID, primary_key=True)
    symbol: Mapped[str] = mapped_column(ID, primary_key=True)
    base: Mapped[str] = mapped_column(ID, nullable=False)
    quote: Mapped[str] = mapped_column(ID, nullable=False)
    kind: Mapped[str] = mapped_column(ENUM, nullable=False)
    tick_size: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    step_size: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    min_qty: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    max_qty: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    market_min_qty: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    market_max_qty: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    min_notional: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    min_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    max_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    contract_size: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    maker_fee_rate: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    taker_fee_rate: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    updated_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class OrderRow(Base):
    """An order: the intent (OR2) and its current state; client id unique per tenant."""

    __tablename__ = "orders"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "bot_id"], ["bots.tenant_id", "bots.bot_id"]),
        Index("ix_orders_tenant_bot_status", "tenant_id", "bot_id", "status"),
        Index("ix_orders_tenant_venue_order_id", "tenant_id", "venue_order_id"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id"), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(ID, primary_key=True)
    bot_id: Mapped[str] = mapped_column(ID, nullable=False)
    symbol: Mapped[str] = mapped_column(ID, nullable=False)
    side: Mapped[str] = mapped_column(ENUM, nullable=False)
    type: Mapped[str] = mapped_column(ENUM, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    stop_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    time_in_force: Mapped[str] = mapped_column(ENUM, nullable=False)
    reduce_only: Mapped[bool] = mapped_column(Boolean, nullable=False)
    position_side: Mapped[str | None] = mapped_column(ENUM)
    status: Mapped[str] = mapped_column(ENUM, nullable=False)
    filled_quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    average_fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    venue_order_id: Mapped[str | None] = mapped_column(ID)
    created_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # revision 0002: when the order reached a terminal state (null while pending)
    closed_ns: Mapped[int | None] = mapped_column(BigInteger)
    tag: Mapped[str] = mapped_column(NAME, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)


class OrderEventRow(Base):
    """One transition of an order (``kind`` "intent" for the recorded intent)."""

    __tablename__ = "order_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "client_order_id"], ["orders.tenant_id", "orders.client_order_id"]
        ),
        Index("ix_order_events_tenant_order", "tenant_id", "client_order_id", "id"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    client_order_id: Mapped[str] = mapped_column(ID, nullable=False)
    kind: Mapped[str] = mapped_column(ENUM, nullable=False)
    previous_status: Mapped[str | None] = mapped_column(ENUM)
    status: Mapped[str] = mapped_column(ENUM, nullable=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    venue_order_id: Mapped[str | None] = mapped_column(ID)
    trade_id: Mapped[str | None] = mapped_column(ID)
    reason: Mapped[str | None] = mapped_column(Text)


class FillRow(Base):
    """One execution; stored once per (tenant, order, venue trade id)."""

    __tablename__ = "fills"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "client_order_id"], ["orders.tenant_id", "orders.client_order_id"]
        ),
        UniqueConstraint(
            "tenant_id", "client_order_id", "trade_id", name="uq_fills_tenant_order_trade"
        ),
        Index("ix_fills_tenant_bot_ts", "tenant_id", "bot_id", "ts_ns"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    bot_id: Mapped[str] = mapped_column(ID, nullable=False)
    client_order_id: Mapped[str] = mapped_column(ID, nullable=False)
    trade_id: Mapped[str] = mapped_column(ID, nullable=False)
    symbol: Mapped[str] = mapped_column(ID, nullable=False)
    side: Mapped[str] = mapped_column(ENUM, nullable=False)
    price: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    fee_currency: Mapped[str] = mapped_column(ID, nullable=False)
    liquidity: Mapped[str] = mapped_column(ENUM, nullable=False)
    position_side: Mapped[str | None] = mapped_column(ENUM)
    ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PositionRow(Base):
    """A position leg of a bot: one row per (symbol, side) (OR7: legs never collapse)."""

    __tablename__ = "positions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "bot_id"], ["bots.tenant_id", "bots.bot_id"]),
    )
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id"), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ID, primary_key=True)
    symbol: Mapped[str] = mapped_column(ID, primary_key=True)
    side: Mapped[str] = mapped_column(ENUM, primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    average_entry_price: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    realised_pnl: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    fees_paid: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    funding_received: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    contract_size: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    updated_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class TradeRow(Base):
    """A round trip (flat to flat) of a bot; kept forever for audit (PE5)."""

    __tablename__ = "trades"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "bot_id"], ["bots.tenant_id", "bots.bot_id"]),
        Index("ix_trades_tenant_bot_open", "tenant_id", "bot_id", "is_open"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id"), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ID, primary_key=True)
    trade_id: Mapped[str] = mapped_column(ID, primary_key=True)
    symbol: Mapped[str] = mapped_column(ID, nullable=False)
    side: Mapped[str] = mapped_column(ENUM, nullable=False)
    entry_ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    exit_ts_ns: Mapped[int | None] = mapped_column(BigInteger)
    entry_price: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    exit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    pnl: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    fees: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    is_open: Mapped[bool] = mapped_column(Boolean, nullable=False)
    updated_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # revision 0004: what a restart needs to resume the trade exactly (null in older rows)
    leg_net_at_open: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    leg_fees_at_open: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    exited_quantity: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    exit_notional: Mapped[Decimal | None] = mapped_column(ExactDecimal)


class BalanceSnapshotRow(Base):
    """A balance reading of one currency (pruned by age, PE5)."""

    __tablename__ = "balance_snapshots"
    __table_args__ = (Index("ix_balance_snapshots_tenant_ts", "tenant_id", "ts_ns"),)
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    bot_id: Mapped[str | None] = mapped_column(ID)
    currency: Mapped[str] = mapped_column(ID, nullable=False)
    total: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    free: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class BotStateSnapshotRow(Base):
    """Bot state (JSON) with the owner that wrote it (PE3)."""

    __tablename__ = "bot_state_snapshots"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "bot_id"], ["bots.tenant_id", "bots.bot_id"]),
        Index("ix_bot_state_snapshots_tenant_bot", "tenant_id", "bot_id", "id"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    bot_id: Mapped[str] = mapped_column(ID, nullable=False)
    owner: Mapped[str] = mapped_column(NAME, nullable=False)
    state: Mapped[str] = mapped_column(Text, nullable=False)
    created_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class ThoughtRow(Base):
    """A human-readable reason for a decision (ST3); pruned by age (PE5)."""

    __tablename__ = "thoughts"
    __table_args__ = (Index("ix_thoughts_tenant_ts", "tenant_id", "ts_ns"),)
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    bot_id: Mapped[str] = mapped_column(ID, nullable=False)
    symbol: Mapped[str | None] = mapped_column(ID)
    strategy: Mapped[str | None] = mapped_column(NAME)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    metadata_json: Mapped[str] = mapped_column(Text, nullable=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AuditRow(Base):
    """A control action: who, what, when, outcome, details (API4). Revision 0002."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_ts", "tenant_id", "ts_ns"),)
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    actor: Mapped[str] = mapped_column(NAME, nullable=False)
    action: Mapped[str] = mapped_column(NAME, nullable=False)
    outcome: Mapped[str] = mapped_column(NAME, nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class ReconciliationRunRow(Base):
    """One reconciliation pass (RC1). Revision 0002."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (Index("ix_reconciliation_runs_tenant_bot", "tenant_id", "bot_id", "id"),)
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    bot_id: Mapped[str] = mapped_column(ID, nullable=False)
    trigger: Mapped[str] = mapped_column(NAME, nullable=False)
    status: Mapped[str] = mapped_column(ENUM, nullable=False)
    started_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    finished_ns: Mapped[int | None] = mapped_column(BigInteger)
    records_checked: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mismatch_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)


class ReconciliationMismatchRow(Base):
    """One classified mismatch of a run and how it was healed (RC2). Revision 0002."""

    __tablename__ = "reconciliation_mismatches"
    __table_args__ = (Index("ix_reconciliation_mismatches_tenant_run", "tenant_id", "run_id"),)
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    run_id: Mapped[int] = mapped_column(RowId, ForeignKey("reconciliation_runs.id"), nullable=False)
    kind: Mapped[str] = mapped_column(ENUM, nullable=False)
    subject: Mapped[str] = mapped_column(NAME, nullable=False)
    local_value: Mapped[str | None] = mapped_column(Text)
    venue_value: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(ENUM, nullable=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CircuitBreakerEventRow(Base):
    """A breaker tripped or was resumed (RK3). Revision 0002."""

    __tablename__ = "circuit_breaker_events"
    __table_args__ = (Index("ix_circuit_breaker_events_tenant_ts", "tenant_id", "ts_ns"),)
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    bot_id: Mapped[str | None] = mapped_column(ID)
    breaker: Mapped[str] = mapped_column(NAME, nullable=False)
    action: Mapped[str] = mapped_column(ENUM, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(NAME, nullable=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CapitalReservationRow(Base):
    """Capital held by a pending intent (RK2); ``released_ns`` null while held. Rev. 0002."""

    __tablename__ = "capital_reservations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "bot_id"], ["bots.tenant_id", "bots.bot_id"]),
        UniqueConstraint(
            "tenant_id", "bot_id", "client_order_id", name="uq_capital_reservations_order"
        ),
        Index("ix_capital_reservations_tenant_bot_released", "tenant_id", "bot_id", "released_ns"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    bot_id: Mapped[str] = mapped_column(ID, nullable=False)
    client_order_id: Mapped[str] = mapped_column(ID, nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    created_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    released_ns: Mapped[int | None] = mapped_column(BigInteger)


TABLES = tuple(Base.metadata.sorted_tables)


def table_of(model: type[Base]) -> Table:
    """Return the ``Table`` of a model class (typed: ``__table__`` is a plain FromClause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"model {model.__name__} is not mapped to a Table")
    return table
