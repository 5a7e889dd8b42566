"""Store fixtures: every store test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL: ``AEGIS_TEST_PG_DSN`` (default the local server) must reach a role allowed to
create databases; each module gets a fresh uniquely named database, dropped afterwards.
Unreachable server: skipped with the reason, or failed under CI=true (``require_or_skip``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import require_or_skip

from aegis.model import (
    Fill,
    LiquidityRole,
    Order,
    OrderEventKind,
    OrderSide,
    OrderType,
    OrderUpdate,
    PositionSide,
    TimeInForce,
)
from aegis.store import Store

DEFAULT_PG_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


def _pg_dsn() -> str:
    return os.environ.get("AEGIS_TEST_PG_DSN") or DEFAULT_PG_DSN


def _libpq(dsn: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(dsn).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    """The server DSN, checked once per session."""
    import psycopg

    dsn = _pg_dsn()
    try:
        with psycopg.connect(_libpq(dsn), connect_timeout=3, autocommit=True):
            pass
    except psycopg.Error as error:
        require_or_skip(f"PostgreSQL at AEGIS_TEST_PG_DSN unreachable: {error}".strip())
    return dsn


class _PgDatabases:
    """Creates uniquely named databases on the test server and drops them afterwards."""

    def __init__(self, admin_dsn: str) -> None:
        self._admin_dsn = admin_dsn
        self._names: list[str] = []

    def create(self) -> str:
        import psycopg
        from sqlalchemy.engine import make_url

        name = f"aegis_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_libpq(self._admin_dsn), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        self._names.append(name)
        return make_url(self._admin_dsn).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(_libpq(self._admin_dsn), autocommit=True) as connection:
            for name in self._names:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._names.clear()


def _database_factory(
    backend: str, directory: Path, request: pytest.FixtureRequest
) -> Callable[[], str]:
    """Return a function making an empty database URL of ``backend``."""
    if backend == "sqlite":
        counter = iter(range(1_000_000))
        return lambda: f"sqlite:///{directory / f'aegis-{next(counter)}.db'}"
    databases = _PgDatabases(request.getfixturevalue("pg_admin_dsn"))
    request.addfinalizer(databases.drop_all)
    return databases.create


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database back-end of this run of the module: sqlite or postgresql."""
    return str(request.param)


@pytest.fixture(scope="module")
def module_database(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[], str]:
    """Factory of empty databases on the module's back-end (dropped at module end)."""
    return _database_factory(backend, tmp_path_factory.mktemp(f"store-{backend}"), request)


@pytest.fixture(scope="module")
def store(module_database: Callable[[], str]) -> Iterator[Store]:
    """A store migrated to head, shared by the module's tests (each uses its own tenant)."""
    opened = Store(module_database())
    opened.upgrade()
    yield opened
    opened.close()


@pytest.fixture
def tenant() -> str:
    """A tenant id unique to the test: tests sharing a database never see each other's rows."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def other_tenant() -> str:
    """A second tenant, for isolation checks."""
    return f"o-{uuid.uuid4().hex[:10]}"


# ----------------------------------------------------------------- builders shared by the tests
# more digits than a float can hold: any float on the way would change them
PRICE = Decimal("65432.123456789012345678901")
QUANTITY = Decimal("0.000123456789012345678")
FEE = Decimal("0.00000000012345678901234")


def make_order(
    bot_id: str = "bot1", client_id: str = "", *, created_ns: int = 1_000, **changes: object
) -> Order:
    """A limit buy intent with long decimals."""
    order = Order(
        client_order_id=client_id,
        bot_id=bot_id,
        symbol="BTC/USDT:USDT",
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        quantity=QUANTITY,
        price=PRICE,
        stop_price=Decimal("65000.5"),
        time_in_force=TimeInForce.GTC,
        reduce_only=False,
        position_side=PositionSide.LONG,
        created_ns=created_ns,
        tag="entry",
    )
    return order.replace(**changes) if changes else order


def make_fill(order: Order, trade_id: str, quantity: Decimal, ts_ns: int) -> Fill:
    """A fill of ``quantity`` of ``order`` at its price."""
    assert order.price is not None
    return Fill(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        price=order.price,
        quantity=quantity,
        fee=FEE,
        fee_currency="USDT",
        liquidity=LiquidityRole.MAKER,
        ts_ns=ts_ns,
        trade_id=trade_id,
        position_side=order.position_side,
    )


def update(order: Order, kind: OrderEventKind, ts_ns: int, **fields: object) -> OrderUpdate:
    """An update of ``order``."""
    return OrderUpdate(order.client_order_id, kind, ts_ns, **fields)  # type: ignore[arg-type]


class FakeClock:
    """A settable clock in nanoseconds."""

    def __init__(self, now_ns: int = 1_700_000_000_000_000_000) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


def url_of(store: Store) -> str:
    """The full URL (with password) of ``store``: to open a second store on it."""
    return store.engine.url.render_as_string(hide_password=False)
