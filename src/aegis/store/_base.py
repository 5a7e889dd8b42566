"""Connections, transactions and the helpers every repository shares."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

from aegis.store._driver import DriverWrites
from aegis.store.engine import (
    READ_ONLY_OPTION,
    SQLITE_SYNCHRONOUS,
    create_store_engine,
    normalise_database_url,
)
from aegis.store.schema import BotRow, IntentSequenceRow, TenantRow, table_of

FaultHook = Callable[[str], None]
Clock = Callable[[], int]

TENANTS = table_of(TenantRow)
BOTS = table_of(BotRow)
SEQUENCES = table_of(IntentSequenceRow)
FIRST_SEQUENCE = 1


def require_tenant(tenant: str) -> str:
    """Return ``tenant``; raise ``ValueError`` when it is empty (TN1: every row has one)."""
    if not tenant:
        raise ValueError(f"tenant {tenant!r} must not be empty")
    return tenant


class StoreBase:
    """Owns the engine; gives repositories short read and write transactions."""

    def __init__(
        self, url: str, *, fault_hook: FaultHook | None = None, clock: Clock = time.time_ns
    ) -> None:
        self._url = normalise_database_url(url)
        self._engine: Engine = create_store_engine(self._url)
        self._fault_hook = fault_hook
        self._clock = clock
        # (tenant, bot) pairs known to exist: saves three idempotent inserts per write
        self._known_bots: set[tuple[str, str]] = set()
        self._known_tenants: set[str] = set()
        # SQLite: the event loop's synchronous writes (reservation, intent) skip SQLAlchemy's
        # execution machinery, which cost more than SQLite itself (see _driver.py)
        self._driver = DriverWrites(self._engine) if self._engine.dialect.name == "sqlite" else None

    @property
    def engine(self) -> Engine:
        """Return the SQLAlchemy engine (for tests and tools; repositories use transactions)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """Return ``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection."""
        if self._driver is not None:
            self._driver.close()
        self._engine.dispose()

    def write_batch(self) -> AbstractContextManager[bool]:
        """Context in which this thread's ``reserve_capital`` and ``record_intent`` share one
        transaction (SQLite; see ``DriverWrites.batch``): the intent's durable commit makes
        the reservation before it durable too. Yields False where writes stay separate
        (PostgreSQL, or the connection busy on another thread).
        """
        if self._driver is None:
            return nullcontext(False)
        return self._driver.batch()

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[Connection]:
        """One write transaction: committed on exit, rolled back on any exception.

        ``durable=False``: the commit does not wait for the disk (SQLite ``synchronous=NORMAL``
        for this transaction, PostgreSQL ``synchronous_commit=off``). It survives a process
        kill; a power loss can undo it until the next durable commit, whose sync of the
        write-ahead log covers every commit before it (see docs/storage.md).
        """
        if self._driver is not None:
            self._driver.commit_open()  # this thread's write_batch goes first (one writer)
        if durable:
            with self._engine.begin() as connection:
                yield connection
            return
        with self._engine.connect() as connection:
            if connection.dialect.name != "sqlite":
                with connection.begin():
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    yield connection
                return
            # SQLite refuses to change the safety level inside a transaction: around it
            driver = connection.connection.driver_connection
            if driver is None:
                raise RuntimeError("sqlite connection has no driver connection")
            driver.execute("PRAGMA synchronous=NORMAL")
            try:
                with connection.begin():
                    yield connection
            finally:
                try:
                    driver.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
                except Exception:
                    # never hand a relaxed connection back to the pool
                    connection.invalidate()
                    raise

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read transaction (deferred on SQLite so that it never waits for writers)."""
        with self._engine.connect() as connection:
            connection.execution_options(**{READ_ONLY_OPTION: True})
            yield connection

    def _fault(self, stage: str) -> None:
        # failure-injection seam (PE2 tests): called between the writes of one transaction
        if self._fault_hook is not None:
            self._fault_hook(stage)

    def _now(self) -> int:
        return self._clock()

    def _insert_ignore(
        self, connection: Connection, table: Table, values: Mapping[str, Any]
    ) -> None:
        """Insert ``values`` unless a row with the same key exists."""
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(insert(table).values(**values).on_conflict_do_nothing())

    def _upsert(
        self,
        connection: Connection,
        table: Table,
        values: Mapping[str, Any],
        key: tuple[str, ...],
    ) -> None:
        """Insert ``values`` or replace the non-key columns of the row with the same ``key``."""
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table).values(**values)
        changes = {name: statement.excluded[name] for name in values if name not in key}
        connection.execute(statement.on_conflict_do_update(index_elements=key, set_=changes))

    def ensure_tenant(self, tenant: str, name: str | None = None) -> None:
        """Create ``tenant`` (named ``name``, default its id) if it does not exist.

        Writes call this on first use; each runs in its own short transaction so that the
        cache of known tenants is never ahead of what was committed.
        """
        require_tenant(tenant)
        if tenant in self._known_tenants:
            return
        with self._write() as connection:
            self._insert_ignore(
                connection,
                TENANTS,
                {"id": tenant, "name": tenant if name is None else name, "created_ns": self._now()},
            )
        self._known_tenants.add(tenant)

    def ensure_bot(self, tenant: str, bot_id: str) -> None:
        """Create the tenant, the bot and its intent sequence if they do not exist."""
        require_tenant(tenant)
        if not bot_id:
            raise ValueError(f"bot_id {bot_id!r} must not be empty")
        if (tenant, bot_id) in self._known_bots:
            return
        self.ensure_tenant(tenant)
        now = self._now()
        # its own short transaction: a later rollback must not leave the cache above wrong
        with self._write() as connection:
            self._insert_ignore(
                connection, BOTS, {"tenant_id": tenant, "bot_id": bot_id, "created_ns": now}
            )
            self._insert_ignore(
                connection,
                SEQUENCES,
                {"tenant_id": tenant, "bot_id": bot_id, "next_sequence": FIRST_SEQUENCE},
            )
        self._known_bots.add((tenant, bot_id))
