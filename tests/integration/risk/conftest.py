"""PostgreSQL fixture for the risk integration tests (same pattern as tests/integration/store).

``AEGIS_TEST_PG_DSN`` (default the local server) must reach a role allowed to create databases;
the module gets a fresh uniquely named database, dropped afterwards. Unreachable server: skipped
with the reason, or failed under CI=true (``require_or_skip``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from tests.conftest import require_or_skip

DEFAULT_PG_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _libpq(dsn: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(dsn).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def pg_database_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the module."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = os.environ.get("AEGIS_TEST_PG_DSN") or DEFAULT_PG_DSN
    try:
        with psycopg.connect(_libpq(admin), connect_timeout=3, autocommit=True):
            pass
    except psycopg.Error as error:
        require_or_skip(f"PostgreSQL at AEGIS_TEST_PG_DSN unreachable: {error}".strip())
    name = f"aegis_test_risk_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
