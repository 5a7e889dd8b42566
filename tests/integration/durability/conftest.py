"""Durability fixtures: runs of the emulator at ``--speed max`` on SQLite and on PostgreSQL.

PostgreSQL: ``AEGIS_TEST_PG_DSN`` (default the local server); each test gets a fresh database,
dropped afterwards; an unreachable server skips (fails under CI=true, ``require_or_skip``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require_or_skip
from tests.integration.runtime.conftest import FEE_BPS, PARAMS, SIZE, SYMBOL
from tests.integration.runtime.conftest import xrp_slice as xrp_slice  # the shared fixture
from tests.integration.store.conftest import DEFAULT_PG_DSN, _libpq, _PgDatabases

from aegis.config import Settings, load_settings
from aegis.engine.session import RunSession, SessionResult

pytestmark = pytest.mark.integration

__all__ = ["FEE_BPS", "SIZE", "SYMBOL"]


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """The PostgreSQL server DSN, checked once."""
    import os

    import psycopg

    dsn = os.environ.get("AEGIS_TEST_PG_DSN") or DEFAULT_PG_DSN
    try:
        with psycopg.connect(_libpq(dsn), connect_timeout=3, autocommit=True):
            pass
    except psycopg.Error as error:
        require_or_skip(f"PostgreSQL at AEGIS_TEST_PG_DSN unreachable: {error}".strip())
    return dsn


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each back-end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'aegis.db'}"
        return
    databases = _PgDatabases(request.getfixturevalue("pg_dsn"))
    try:
        yield databases.create()
    finally:
        databases.drop_all()


@pytest.fixture
def durable_settings(
    xrp_slice: Path,
    tmp_path: Path,
    database_url: str,
) -> Callable[..., Settings]:
    """Settings of a step-driven run on ``xrp_slice`` against the in-process emulator."""

    def make(mode: str = "live", **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "mode": mode,
            "data_dir": tmp_path / "data",
            "exchange": {"name": "emulator"},
            "market": {"symbols": [SYMBOL], "timeframe": "5m", "data": [xrp_slice],
                       "speed": "max"},
            "strategy": {"name": "ema_cross", "params": PARAMS},
            "sizing": {"quantity": SIZE, "fee_bps": FEE_BPS, "cash": "10000"},
            "server": {"port": 0},
            "database": {"url": database_url},
            "risk": {"cooldown_losses": 1_000_000},
        }  # fmt: skip
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(values.get(key), dict):
                values[key] = {**values[key], **value}
            else:
                values[key] = value
        return load_settings(None, **values)

    return make


async def run_session(session: RunSession, timeout_s: float = 90) -> SessionResult:
    """Run ``session`` to its end with a bound."""
    return await asyncio.wait_for(session.run(), timeout_s)


async def until(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout_s`` (no event exists for it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition {predicate!r} not met within {timeout_s} s")
        await asyncio.sleep(0.005)
