"""Durable storage (PE1-PE5): SQLAlchemy models, Alembic migrations and the ``Store``.

SQLite in WAL mode is the embedded default (``<data_dir>/aegis.db``); PostgreSQL is used when
``AEGIS_DATABASE_URL`` (or the URL given) says so. Every row carries its tenant (TN1).
"""

from aegis.store._orders import APPLY_STAGES
from aegis.store.engine import (
    DATABASE_URL_ENV,
    create_store_engine,
    database_url_from_env,
    normalise_database_url,
    redact_url,
    sqlite_url,
)
from aegis.store.errors import DuplicateFill, DuplicateIntent, StoreError, UnknownOrder
from aegis.store.funding import FundingLedger, StoredFunding
from aegis.store.migrate import head_revision
from aegis.store.records import (
    AuditEntry,
    BalanceSnapshot,
    BreakerEvent,
    OrderEventRecord,
    PruneResult,
    ReconciliationMismatch,
    ReconciliationRun,
    StateSnapshot,
    StoreStatus,
    ThoughtRecord,
    TradeRecord,
)
from aegis.store.store import Store

__all__ = [
    "APPLY_STAGES",
    "DATABASE_URL_ENV",
    "AuditEntry",
    "BalanceSnapshot",
    "BreakerEvent",
    "DuplicateFill",
    "DuplicateIntent",
    "FundingLedger",
    "OrderEventRecord",
    "PruneResult",
    "ReconciliationMismatch",
    "ReconciliationRun",
    "StateSnapshot",
    "Store",
    "StoreError",
    "StoreStatus",
    "StoredFunding",
    "ThoughtRecord",
    "TradeRecord",
    "UnknownOrder",
    "create_store_engine",
    "database_url_from_env",
    "head_revision",
    "normalise_database_url",
    "redact_url",
    "sqlite_url",
]
