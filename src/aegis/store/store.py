"""The ``Store`` facade: one object with every repository of the database."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from aegis.store import migrate
from aegis.store._control import ControlRepository
from aegis.store._journal import JournalRepository
from aegis.store._orders import OrderRepository
from aegis.store.engine import database_url_from_env, redact_url
from aegis.store.records import StoreStatus


class Store(OrderRepository, JournalRepository, ControlRepository):
    """Durable state of Aegis on SQLite (WAL, embedded default) or PostgreSQL (PE1).

    ``Store(url, fault_hook=None, clock=time.time_ns)``. Every method takes the tenant first
    and returns model values, never ORM rows. Calls are short, synchronous transactions: call
    them directly or through ``asyncio.to_thread``. ``fault_hook(stage)`` is called between
    the writes of ``apply_order_update`` (stages in ``APPLY_STAGES``) so that a test can fail
    a transaction part-way.
    """

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> Store:
        """Open ``AEGIS_DATABASE_URL`` if set, else ``<data_dir>/aegis.db``."""
        return cls(database_url_from_env(data_dir))

    @property
    def url(self) -> str:
        """Return the database URL with its password masked."""
        return redact_url(self._url)

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema to ``revision`` (default head); data is kept, never recreated."""
        migrate.upgrade(self._engine, revision)

    def status(self) -> StoreStatus:
        """Return current and head revisions, pending migrations and row counts."""
        return migrate.status(self._engine)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
