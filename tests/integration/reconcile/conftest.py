"""Fixtures: the emulator, the bot's CcxtVenue, a second ccxt client on the same account, and a
real store on SQLite (temporary file) and PostgreSQL (``AEGIS_TEST_PG_DSN``, fresh database).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require_or_skip
from tests.emulator_accounts import bot_venue, raw_client, xrp_emulator
from tests.integration.store.conftest import _libpq

from aegis.store import Store
from aegis.venues.ccxt import CcxtVenue
from aegis.venues.emulator.server import EmulatorServer

KEY, SECRET = "key-reconcile", "secret-reconcile"
SYMBOL = "XRP/USDT:USDT"
DEFAULT_PG_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
async def server(bundled_data_dir: Path) -> AsyncIterator[EmulatorServer]:
    """A step-driven emulator on a free port with one funded account."""
    async with xrp_emulator(bundled_data_dir, KEY, SECRET) as emulator:
        yield emulator


@pytest.fixture
async def venue(server: EmulatorServer) -> AsyncIterator[CcxtVenue]:
    """The bot's venue."""
    async with bot_venue(server, KEY, SECRET) as opened:
        yield opened


@pytest.fixture
async def other_client(server: EmulatorServer) -> AsyncIterator[Any]:
    """Another ccxt instance on the same account: trades behind the bot's back."""
    async with raw_client(server, KEY, SECRET) as exchange:
        yield exchange


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on each back-end; the PostgreSQL database is dropped afterwards."""
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'reconcile.db'}")
        opened.upgrade()
        yield opened
        opened.close()
        return
    import psycopg
    from sqlalchemy.engine import make_url

    admin = os.environ.get("AEGIS_TEST_PG_DSN") or DEFAULT_PG_DSN
    name = f"aegis_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_libpq(admin), connect_timeout=3, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        require_or_skip(f"PostgreSQL at AEGIS_TEST_PG_DSN unreachable: {error}".strip())
    opened = Store(make_url(admin).set(database=name).render_as_string(hide_password=False))
    opened.upgrade()
    yield opened
    opened.close()
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
