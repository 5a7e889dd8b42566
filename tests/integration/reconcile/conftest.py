"""Fixtures: the emulator, the bot's CcxtVenue, a second ccxt client on the same account, and a
real store on SQLite (temporary file) and PostgreSQL (``AEGIS_TEST_PG_DSN``, fresh database).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import pytest
from pydantic import SecretStr
from tests.conftest import require_or_skip

from aegis.config import ExchangeSettings
from aegis.store import Store
from aegis.venues.ccxt import CcxtVenue, RetryPolicy
from aegis.venues.emulator import AccountSpec, EmulatorConfig, configure_ccxt
from aegis.venues.emulator.server import EmulatorServer

KEY, SECRET = "key-reconcile", "secret-reconcile"
SYMBOL = "XRP/USDT:USDT"
DEFAULT_PG_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
async def server(bundled_data_dir: Path) -> AsyncIterator[EmulatorServer]:
    """A step-driven emulator on a free port with one funded account."""
    config = EmulatorConfig(
        data_files=(bundled_data_dir / "binance-usdm_XRP-USDT-PERP_5m.csv.gz",),
        accounts=(AccountSpec(KEY, SECRET, balance=Decimal(100_000)),),
        history_candles=20,
    )
    emulator = EmulatorServer(config)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def venue(server: EmulatorServer) -> AsyncIterator[CcxtVenue]:
    """The bot's venue."""
    settings = ExchangeSettings(
        name="binanceusdm", api_key=SecretStr(KEY), api_secret=SecretStr(SECRET)
    )
    opened = CcxtVenue("binanceusdm", settings, base_url=server.base_url,
                       policy=RetryPolicy(base_delay_s=0.01, seed=1))  # fmt: skip
    await opened.connect()
    yield opened
    await opened.close()


@pytest.fixture
async def other_client(server: EmulatorServer) -> AsyncIterator[Any]:
    """Another ccxt instance on the same account: trades behind the bot's back."""
    exchange = configure_ccxt(ccxt_async.binanceusdm({"apiKey": KEY, "secret": SECRET}),
                              server.base_url)  # fmt: skip
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def _libpq(dsn: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(dsn).set(drivername="postgresql").render_as_string(hide_password=False)


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
