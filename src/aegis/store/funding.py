"""Booked perpetual funding payments of a bot (OR3, PE4); table ``funding_payments``, rev. 0003.

One row per (tenant, bot, venue payment id): the id is the exchange's own (Binance ``tranId``)
in live mode, ``paper:<symbol>:<funding ms>`` in paper mode. ``FundingLedger.record`` inserts the
payment and, in the same transaction, writes the position leg it was shared to (its
``funding_received``), so a restart never books a payment twice nor loses one: the booked ids
and the last booked time are read back from this table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from aegis.model.events import FundingPayment
from aegis.model.position import Position
from aegis.store._base import require_tenant
from aegis.store._convert import position_values
from aegis.store.schema import ID, Base, PositionRow, RowId, table_of
from aegis.store.types import ExactDecimal

if TYPE_CHECKING:
    from aegis.store.store import Store

#: longest venue payment id stored (Binance tranIds are 19 digits)
PAYMENT_ID_MAX = 128


class FundingPaymentRow(Base):
    """A funding payment booked for a bot; unique per (tenant, bot, payment id). Rev. 0003."""

    __tablename__ = "funding_payments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "bot_id"], ["bots.tenant_id", "bots.bot_id"]),
        UniqueConstraint(
            "tenant_id", "bot_id", "payment_id", name="uq_funding_payments_tenant_bot_payment"
        ),
        Index("ix_funding_payments_tenant_bot_ts", "tenant_id", "bot_id", "ts_ns"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ID, ForeignKey("tenants.id"), nullable=False)
    bot_id: Mapped[str] = mapped_column(ID, nullable=False)
    payment_id: Mapped[str] = mapped_column(String(PAYMENT_ID_MAX), nullable=False)
    symbol: Mapped[str] = mapped_column(ID, nullable=False)
    asset: Mapped[str] = mapped_column(ID, nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    mark_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    ts_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)


FUNDING_PAYMENTS = table_of(FundingPaymentRow)
_POSITIONS = table_of(PositionRow)
_POSITION_KEY = ("tenant_id", "bot_id", "symbol", "side")


@dataclass(frozen=True, slots=True)
class StoredFunding:
    """A booked payment: the venue's id, the asset it moved and the payment itself.

    ``rate`` / ``mark_price`` of ``payment`` are 0 when the venue did not state them
    (``has_rate`` False): Binance's income history gives the amount only.
    """

    payment_id: str
    asset: str
    payment: FundingPayment
    has_rate: bool = True


class FundingLedger:
    """Read and write a tenant's booked funding payments on a ``Store``'s engine.

    Uses ``store``'s engine and ``ensure_bot`` only. Calls are short
    synchronous transactions: call them directly or through ``asyncio.to_thread``.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(
        self,
        tenant: str,
        bot_id: str,
        booked: StoredFunding,
        *,
        legs: Iterable[Position] = (),
        now_ns: int,
    ) -> bool:
        """Store ``booked`` and write ``legs`` in one transaction; False when already stored.

        ``legs`` are the position legs the payment was shared to, after it (their
        ``funding_received``). A payment already stored (same tenant, bot and payment id)
        writes nothing, legs included: applied twice, the database keeps it once.
        """
        require_tenant(tenant)
        if not booked.payment_id or len(booked.payment_id) > PAYMENT_ID_MAX:
            raise ValueError(
                f"funding payment id {booked.payment_id!r} must be 1..{PAYMENT_ID_MAX} characters"
            )
        self._store.ensure_bot(tenant, bot_id)
        payment = booked.payment
        values = {
            "tenant_id": tenant,
            "bot_id": bot_id,
            "payment_id": booked.payment_id,
            "symbol": payment.symbol,
            "asset": booked.asset,
            "amount": payment.amount,
            "rate": payment.rate if booked.has_rate else None,
            "mark_price": payment.mark_price if booked.has_rate else None,
            "ts_ns": payment.ts_ns,
            "recorded_ns": now_ns,
        }
        with self._store.engine.begin() as connection:
            inserted = _insert_ignore(connection, values)
            if inserted:
                for leg in legs:
                    _upsert_leg(connection, position_values(tenant, bot_id, leg, now_ns))
        return inserted

    def payments(self, tenant: str, bot_id: str, symbol: str | None = None) -> list[StoredFunding]:
        """Return the bot's booked payments (of ``symbol``, or all), oldest first."""
        require_tenant(tenant)
        table = FUNDING_PAYMENTS
        query = select(table).where(table.c.tenant_id == tenant, table.c.bot_id == bot_id)
        if symbol is not None:
            query = query.where(table.c.symbol == symbol)
        with self._store.engine.connect() as connection:
            rows = connection.execute(query.order_by(table.c.ts_ns, table.c.id)).mappings().all()
        return [_from_row(row) for row in rows]

    def last_booked_ms(self, tenant: str, bot_id: str, symbol: str) -> int | None:
        """Return the time (UTC ms) of the newest booked payment of ``symbol``, None if none."""
        require_tenant(tenant)
        table = FUNDING_PAYMENTS
        query = select(func.max(table.c.ts_ns)).where(
            table.c.tenant_id == tenant, table.c.bot_id == bot_id, table.c.symbol == symbol
        )
        with self._store.engine.connect() as connection:
            value = connection.execute(query).scalar_one_or_none()
        return None if value is None else int(value) // 1_000_000


def _insert_ignore(connection: Connection, values: dict[str, Any]) -> bool:
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    result = connection.execute(insert(FUNDING_PAYMENTS).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


def _upsert_leg(connection: Connection, values: dict[str, Any]) -> None:
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_POSITIONS).values(**values)
    changes = {name: statement.excluded[name] for name in values if name not in _POSITION_KEY}
    connection.execute(statement.on_conflict_do_update(index_elements=_POSITION_KEY, set_=changes))


def _from_row(row: Any) -> StoredFunding:
    rate, mark = row["rate"], row["mark_price"]
    has_rate = rate is not None and mark is not None
    payment = FundingPayment(
        row["symbol"],
        rate if rate is not None else Decimal(0),
        mark if mark is not None else Decimal(0),
        row["amount"],
        row["ts_ns"],
    )
    return StoredFunding(row["payment_id"], row["asset"], payment, has_rate)
