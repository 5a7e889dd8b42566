"""Database URLs and engines: SQLite (WAL) by default, PostgreSQL when a URL says so (PE1)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

from aegis.model import ConfigError

DATABASE_URL_ENV: Final = "AEGIS_DATABASE_URL"
SQLITE_FILE_NAME: Final = "aegis.db"
SQLITE_BUSY_TIMEOUT_MS: Final = 5_000
# FULL: every commit fsyncs the WAL, so an intent committed before the venue call survives a
# power loss too (NORMAL survives a process kill but may lose the last commits on power loss).
SQLITE_SYNCHRONOUS: Final = "FULL"
# Execution option: open the transaction as a reader (deferred BEGIN) instead of a writer.
READ_ONLY_OPTION: Final = "aegis_read_only"


def sqlite_url(data_dir: Path) -> str:
    """Return the URL of the embedded database file ``<data_dir>/aegis.db``."""
    return f"sqlite:///{(Path(data_dir) / SQLITE_FILE_NAME).resolve()}"


def database_url_from_env(data_dir: Path) -> str:
    """Return ``AEGIS_DATABASE_URL`` if set and not empty, else the SQLite file in ``data_dir``."""
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    return normalise_database_url(configured) if configured else sqlite_url(data_dir)


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver for PostgreSQL; reject other back-ends.

    Raises ``ConfigError`` naming the URL (password hidden) for an unsupported or bad URL.
    """
    try:
        parsed = make_url(url)
    except Exception as error:  # sqlalchemy raises ArgumentError; keep the message ours
        raise ConfigError(f"database url {url!r} is not a valid URL: {error}") from error
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        shown = parsed.render_as_string(hide_password=True)
        raise ConfigError(f"database url {shown!r}: only sqlite and postgresql are supported")
    return parsed.render_as_string(hide_password=False)


def redact_url(url: str) -> str:
    """Return ``url`` with its password masked, for logs and status output."""
    return make_url(url).render_as_string(hide_password=True)


def create_store_engine(url: str) -> Engine:
    """Create the engine for ``url`` with the store's connection settings.

    SQLite: WAL, ``synchronous=FULL``, ``foreign_keys=ON``, ``busy_timeout`` 5 s, and write
    transactions opened with ``BEGIN IMMEDIATE`` so that writers queue on the lock up front
    instead of failing when a reader upgrades. PostgreSQL: psycopg 3 with pre-ping, so a
    connection broken by a server restart is replaced instead of failing the next write.
    """
    parsed: URL = make_url(normalise_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=10,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Any: the DB-API connection object is untyped in SQLAlchemy's event signature.
        # isolation_level None stops pysqlite from issuing its own BEGIN; we issue ours below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
