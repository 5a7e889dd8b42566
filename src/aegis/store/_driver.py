"""The event loop's synchronous SQLite writes, run on the driver connection directly.

The capital reservation (RK2) and the order's intent (OR2) are the two writes the runtime waits
for between a closed candle and its order. Through SQLAlchemy's execution machinery (pool
checkout, execution context, events, result wrapping) each statement cost about 0.1 ms on the
project machine, more than SQLite's own work: a reservation took ~0.65 ms and an intent ~1.1 ms
of which the WAL fsync is ~0.3 ms. ``DriverWrites`` runs the *same* Core statements, compiled
once for SQLite with their column types' bind processors (so every row is byte-for-byte what
the SQLAlchemy path writes), on one dedicated DB-API connection of the engine's pool (its
``connect`` settings applied: WAL, ``synchronous=FULL``, foreign keys, busy timeout), inside
``BEGIN IMMEDIATE`` ... ``COMMIT`` as the engine's own write transactions. Errors are raised as
SQLAlchemy's ``DBAPIError`` subclasses, as on the other path (the journal reads
``OperationalError`` as "database unavailable", ``record_intent`` ``IntegrityError`` as a
duplicate). PostgreSQL keeps the SQLAlchemy path.

``batch()`` joins the transactions its caller opens inside it into one: the runtime reserves an
entry's capital and commits its intent in a single ``BEGIN IMMEDIATE`` ... ``COMMIT``, synced
once, instead of a relaxed commit followed by a synced one (issue 3 section 7).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from aegis.store.engine import SQLITE_SYNCHRONOUS

BindProcessor = Callable[[Any], Any] | None


class DriverStatement:
    """A Core statement compiled once for SQLite: its SQL and its ordered bind processors."""

    __slots__ = ("_binds", "sql")

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        column_keys: Sequence[str] | None = None,
    ) -> None:
        compiled = statement.compile(
            dialect=dialect, column_keys=None if column_keys is None else list(column_keys)
        )
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"statement {statement!r} did not compile to SQL")
        names = compiled.positiontup
        if names is None:
            raise ValueError(f"statement {compiled.string!r} did not compile to positional binds")
        self.sql = compiled.string
        binds = compiled.binds
        self._binds: tuple[tuple[str, BindProcessor], ...] = tuple(
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        )

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        """Return the positional parameters for ``values`` (keyed like the Core statement)."""
        missing = [name for name, _ in self._binds if name not in values]
        if missing:
            raise KeyError(f"statement {self.sql!r} needs parameters {missing}")
        return [
            values[name] if process is None else process(values[name])
            for name, process in self._binds
        ]


class DriverWrites:
    """Short write transactions on one dedicated SQLite connection of ``engine``'s pool.

    Used by one thread at a time: ``transaction`` returns None (the caller takes the normal
    path) while another thread holds the connection. A connection that raised is discarded;
    the next transaction checks out a fresh one.
    """

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError(f"DriverWrites is for SQLite, not {engine.dialect.name}")
        self._engine = engine
        self._lock = threading.Lock()
        self._proxy: Any = None  # the pool's proxied connection, kept checked out
        self._statements: dict[str, DriverStatement] = {}
        self._batch_thread: int | None = None  # the thread inside batch(), if any
        self._batch_cursor: sqlite3.Cursor | None = None  # its open transaction, if begun

    def statement(
        self, key: str, statement: ClauseElement, column_keys: Sequence[str] | None = None
    ) -> DriverStatement:
        """Return the compiled form of ``statement``, compiled on first use under ``key``."""
        found = self._statements.get(key)
        if found is None:
            found = DriverStatement(statement, self._engine.dialect, column_keys)
            self._statements[key] = found
        return found

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[DriverTransaction | None]:
        """One ``BEGIN IMMEDIATE`` transaction, committed on exit, rolled back on an error.

        ``durable=False`` commits with ``synchronous=NORMAL`` (no wait for the disk), as
        ``StoreBase._write(durable=False)``. Yields None when the connection is busy.
        Inside the caller's ``batch()`` it joins the batch's transaction instead (see there).
        """
        if self._batch_thread is not None and self._batch_thread == threading.get_ident():
            with self._joined(durable=durable) as joined:
                yield joined
            return
        if not self._lock.acquire(blocking=False):
            yield None
            return
        try:
            cursor = self._cursor()
            try:
                if not durable:
                    cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield DriverTransaction(cursor)
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
                if not durable:
                    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            except sqlite3.Error as error:
                # never reuse a connection in an unknown state (a relaxed sync level above all)
                self._discard()
                raise DBAPIError.instance(
                    "driver write transaction", None, error, sqlite3.Error
                ) from error
            except BaseException:
                if not durable:
                    self._restore_or_discard(cursor)
                raise
        finally:
            self._lock.release()

    @contextmanager
    def batch(self) -> Iterator[bool]:
        """Run the ``transaction`` blocks this thread opens inside as one transaction.

        The first one begins it (``BEGIN IMMEDIATE``); a non-durable one leaves it open; a
        durable one commits it, synced, with everything written before it in the batch; the
        batch's end commits what is still open (``synchronous=FULL``: never less durable than
        the separate commits it replaces). A statement that fails rolls back everything the
        batch has not committed yet. Yields False, and changes nothing, when the connection is
        busy on another thread or a batch is already open.
        """
        if self._batch_thread is not None or not self._lock.acquire(blocking=False):
            yield False
            return
        self._batch_thread = threading.get_ident()
        try:
            yield True
        finally:
            self._batch_thread = None
            cursor, self._batch_cursor = self._batch_cursor, None
            try:
                if cursor is not None:
                    self._commit(cursor)
            finally:
                self._lock.release()

    def commit_open(self) -> None:
        """Commit what this thread's batch has begun (before a write on another connection).

        SQLite has one writer at a time: a write of the same thread through SQLAlchemy inside a
        batch (a bot's first ``ensure_bot``) would wait for the batch's lock until it times out.
        """
        if self._batch_thread is None or self._batch_thread != threading.get_ident():
            return
        cursor, self._batch_cursor = self._batch_cursor, None
        if cursor is not None:
            self._commit(cursor)

    @contextmanager
    def _joined(self, *, durable: bool) -> Iterator[DriverTransaction]:
        """A ``transaction`` inside ``batch()``: begins the batch's transaction or continues it."""
        cursor = self._batch_cursor
        try:
            if cursor is None:
                cursor = self._cursor()
                cursor.execute("BEGIN IMMEDIATE")
                self._batch_cursor = cursor
        except sqlite3.Error as error:
            self._discard()
            raise DBAPIError.instance("driver batch begin", None, error, sqlite3.Error) from error
        try:
            yield DriverTransaction(cursor)
        except BaseException as error:
            self._batch_cursor = None
            try:
                cursor.execute("ROLLBACK")
            except sqlite3.Error:
                self._discard()
            if isinstance(error, sqlite3.Error):
                # as transaction(): never reuse the connection, raise SQLAlchemy's error type
                self._discard()
                raise DBAPIError.instance(
                    "driver batch write", None, error, sqlite3.Error
                ) from error
            raise
        if durable:
            self._batch_cursor = None
            self._commit(cursor)

    def _commit(self, cursor: sqlite3.Cursor) -> None:
        try:
            cursor.execute("COMMIT")
        except sqlite3.Error as error:
            self._discard()
            raise DBAPIError.instance("driver batch commit", None, error, sqlite3.Error) from error

    def close(self) -> None:
        """Close the connection (the store is closing); it never goes back to the pool."""
        with self._lock:
            self._discard()

    def _cursor(self) -> sqlite3.Cursor:
        proxy = self._proxy
        fresh = proxy is None
        if proxy is None:
            proxy = self._engine.raw_connection()
            self._proxy = proxy
        driver = proxy.driver_connection
        if not isinstance(driver, sqlite3.Connection):
            self._discard()
            raise TypeError(f"SQLite driver connection expected, got {type(driver)}")
        if fresh:
            # This connection never checkpoints the WAL (copying it into the database file and
            # syncing that takes milliseconds inside a commit): the journal's other connections
            # do it after their own commits. So it never goes back to the pool, where another
            # user would inherit the setting: close() and errors discard it.
            driver.execute("PRAGMA wal_autocheckpoint=0")
        return driver.cursor()

    def _discard(self) -> None:
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            with contextlib.suppress(Exception):
                proxy.invalidate()

    def _restore_or_discard(self, cursor: sqlite3.Cursor) -> None:
        try:
            cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        except sqlite3.Error:
            self._discard()


class DriverTransaction:
    """The statements of one ``DriverWrites.transaction``."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, statement: DriverStatement, values: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows."""
        self._cursor.execute(statement.sql, statement.parameters(values))

    def rows(self, statement: DriverStatement, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a query and return its raw rows (no result processing)."""
        return self._cursor.execute(statement.sql, statement.parameters(values)).fetchall()
