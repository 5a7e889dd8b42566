"""Snapshots, thoughts, the audit log, balances and instruments (PE3, ST3, API4)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from aegis.model import Instrument, MarketKind
from aegis.store._base import StoreBase, require_tenant
from aegis.store.records import AuditEntry, BalanceSnapshot, StateSnapshot, ThoughtRecord
from aegis.store.schema import (
    AuditRow,
    BalanceSnapshotRow,
    BotStateSnapshotRow,
    InstrumentRow,
    ThoughtRow,
    table_of,
)

SNAPSHOTS = table_of(BotStateSnapshotRow)
THOUGHTS = table_of(ThoughtRow)
AUDIT = table_of(AuditRow)
BALANCES = table_of(BalanceSnapshotRow)
INSTRUMENTS = table_of(InstrumentRow)

_INSTRUMENT_DECIMALS = (
    "tick_size",
    "step_size",
    "min_qty",
    "max_qty",
    "market_min_qty",
    "market_max_qty",
    "min_notional",
    "min_price",
    "max_price",
    "contract_size",
    "maker_fee_rate",
    "taker_fee_rate",
)


def to_json(value: Mapping[str, Any], what: str) -> str:
    """Serialise ``value`` strictly (no NaN, no unknown types); the error names ``what``."""
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} is not JSON-safe: {error}") from error


def _from_json(text: str) -> dict[str, Any]:
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {"value": loaded}


class JournalRepository(StoreBase):
    """Everything the runtime writes besides the order journal."""

    # ----------------------------------------------------------------- snapshots (PE3)
    def save_snapshot(
        self, tenant: str, bot_id: str, owner: str, state: Mapping[str, Any]
    ) -> StateSnapshot:
        """Store a JSON-safe bot ``state`` written by ``owner`` (a worker / process id)."""
        require_tenant(tenant)
        if not owner:
            raise ValueError(f"snapshot owner {owner!r} must not be empty for bot {bot_id!r}")
        text = to_json(state, f"state of bot {bot_id!r}")
        self.ensure_bot(tenant, bot_id)
        now = self._now()
        with self._write() as connection:
            connection.execute(
                SNAPSHOTS.insert().values(
                    tenant_id=tenant, bot_id=bot_id, owner=owner, state=text, created_ns=now
                )
            )
        return StateSnapshot(bot_id=bot_id, owner=owner, created_ns=now, state=_from_json(text))

    def latest_snapshot(self, tenant: str, bot_id: str) -> StateSnapshot | None:
        """Return the bot's newest snapshot, None if it never saved one."""
        require_tenant(tenant)
        query = (
            select(SNAPSHOTS)
            .where((SNAPSHOTS.c.tenant_id == tenant) & (SNAPSHOTS.c.bot_id == bot_id))
            .order_by(SNAPSHOTS.c.id.desc())
            .limit(1)
        )
        with self._read() as connection:
            row = connection.execute(query).mappings().one_or_none()
        if row is None:
            return None
        return StateSnapshot(
            bot_id=row["bot_id"],
            owner=row["owner"],
            created_ns=row["created_ns"],
            state=_from_json(row["state"]),
        )

    # ----------------------------------------------------------------- thoughts (ST3)
    def record_thought(
        self,
        tenant: str,
        bot_id: str,
        text: str,
        *,
        symbol: str | None = None,
        strategy: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        ts_ns: int | None = None,
    ) -> ThoughtRecord:
        """Store a human-readable reason for a decision; ``ts_ns`` defaults to now."""
        require_tenant(tenant)
        meta_text = to_json(metadata or {}, f"thought metadata of bot {bot_id!r}")
        stamp = self._now() if ts_ns is None else ts_ns
        self.ensure_tenant(tenant)
        with self._write() as connection:
            connection.execute(
                THOUGHTS.insert().values(
                    tenant_id=tenant,
                    bot_id=bot_id,
                    symbol=symbol,
                    strategy=strategy,
                    text=text,
                    metadata_json=meta_text,
                    ts_ns=stamp,
                )
            )
        return ThoughtRecord(bot_id, text, stamp, symbol, strategy, _from_json(meta_text))

    def thoughts(
        self, tenant: str, bot_id: str | None = None, limit: int = 100
    ) -> list[ThoughtRecord]:
        """Return the tenant's newest ``limit`` thoughts, newest first."""
        require_tenant(tenant)
        query = select(THOUGHTS).where(THOUGHTS.c.tenant_id == tenant)
        if bot_id is not None:
            query = query.where(THOUGHTS.c.bot_id == bot_id)
        query = query.order_by(THOUGHTS.c.ts_ns.desc(), THOUGHTS.c.id.desc()).limit(limit)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            ThoughtRecord(
                bot_id=row["bot_id"],
                text=row["text"],
                ts_ns=row["ts_ns"],
                symbol=row["symbol"],
                strategy=row["strategy"],
                metadata=_from_json(row["metadata_json"]),
            )
            for row in rows
        ]

    # ----------------------------------------------------------------- audit (API4)
    def audit(
        self,
        tenant: str,
        actor: str,
        action: str,
        outcome: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Record a control action: who (``actor``), what, when (now) and its ``outcome``."""
        require_tenant(tenant)
        for name, value in (("actor", actor), ("action", action), ("outcome", outcome)):
            if not value:
                raise ValueError(f"audit {name} {value!r} must not be empty")
        text = to_json(details or {}, f"audit details of {action!r}")
        now = self._now()
        self.ensure_tenant(tenant)
        with self._write() as connection:
            connection.execute(
                AUDIT.insert().values(
                    tenant_id=tenant,
                    actor=actor,
                    action=action,
                    outcome=outcome,
                    details=text,
                    ts_ns=now,
                )
            )
        return AuditEntry(actor, action, outcome, now, _from_json(text))

    def audit_log(self, tenant: str, limit: int = 100) -> list[AuditEntry]:
        """Return the tenant's newest ``limit`` audit entries, newest first."""
        require_tenant(tenant)
        query = (
            select(AUDIT)
            .where(AUDIT.c.tenant_id == tenant)
            .order_by(AUDIT.c.ts_ns.desc(), AUDIT.c.id.desc())
            .limit(limit)
        )
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            AuditEntry(
                row["actor"],
                row["action"],
                row["outcome"],
                row["ts_ns"],
                _from_json(row["details"]),
            )
            for row in rows
        ]

    # ----------------------------------------------------------------- balances
    def record_balance(
        self,
        tenant: str,
        currency: str,
        total: Decimal,
        free: Decimal,
        *,
        bot_id: str | None = None,
        ts_ns: int | None = None,
    ) -> BalanceSnapshot:
        """Store a balance reading of ``currency`` (account-wide when ``bot_id`` is None)."""
        require_tenant(tenant)
        stamp = self._now() if ts_ns is None else ts_ns
        self.ensure_tenant(tenant)
        with self._write() as connection:
            connection.execute(
                BALANCES.insert().values(
                    tenant_id=tenant,
                    bot_id=bot_id,
                    currency=currency,
                    total=total,
                    free=free,
                    ts_ns=stamp,
                )
            )
        return BalanceSnapshot(currency, total, free, stamp, bot_id)

    def balances(self, tenant: str, currency: str | None = None) -> list[BalanceSnapshot]:
        """Return the tenant's balance readings (optionally of one currency), oldest first."""
        require_tenant(tenant)
        query = select(BALANCES).where(BALANCES.c.tenant_id == tenant)
        if currency is not None:
            query = query.where(BALANCES.c.currency == currency)
        with self._read() as connection:
            rows = connection.execute(query.order_by(BALANCES.c.ts_ns, BALANCES.c.id)).mappings()
            return [
                BalanceSnapshot(
                    row["currency"], row["total"], row["free"], row["ts_ns"], row["bot_id"]
                )
                for row in rows
            ]

    # ----------------------------------------------------------------- instruments
    def save_instrument(self, tenant: str, venue: str, instrument: Instrument) -> None:
        """Store (or replace) the filters of ``instrument`` as ``venue`` publishes them."""
        require_tenant(tenant)
        values: dict[str, Any] = {
            "tenant_id": tenant,
            "venue": venue,
            "symbol": instrument.symbol,
            "base": instrument.base,
            "quote": instrument.quote,
            "kind": instrument.kind.value,
            "updated_ns": self._now(),
        }
        values.update({name: getattr(instrument, name) for name in _INSTRUMENT_DECIMALS})
        self.ensure_tenant(tenant)
        with self._write() as connection:
            self._upsert(connection, INSTRUMENTS, values, ("tenant_id", "venue", "symbol"))

    def instruments(self, tenant: str, venue: str) -> dict[str, Instrument]:
        """Return the instruments stored for ``venue``, keyed by unified symbol."""
        require_tenant(tenant)
        query = select(INSTRUMENTS).where(
            (INSTRUMENTS.c.tenant_id == tenant) & (INSTRUMENTS.c.venue == venue)
        )
        with self._read() as connection:
            rows = connection.execute(query.order_by(INSTRUMENTS.c.symbol)).mappings().all()
        return {
            row["symbol"]: Instrument(
                symbol=row["symbol"],
                base=row["base"],
                quote=row["quote"],
                kind=MarketKind(row["kind"]),
                **{name: row[name] for name in _INSTRUMENT_DECIMALS},
            )
            for row in rows
        }
