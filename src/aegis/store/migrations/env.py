"""Alembic environment: runs on the connection handed over by ``aegis.store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from aegis.store.engine import create_store_engine
from aegis.store.schema import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER constraints in place: batch mode copies the table instead
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic: no connection and no sqlalchemy.url given")
    engine = create_store_engine(url)
    try:
        with engine.connect() as owned:
            _run(owned)
    finally:
        engine.dispose()


_main()
