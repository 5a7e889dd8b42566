"""Schema migrations with Alembic, run programmatically from the package's own scripts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Engine, func, inspect, select

from aegis.store.engine import redact_url
from aegis.store.records import StoreStatus
from aegis.store.schema import Base

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def head_revision() -> str:
    """Return the newest revision the package ships."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration found in {MIGRATIONS_DIR}")
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: head); existing rows are kept."""
    from alembic import command

    config = _config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    """Return the database's revision, None for a database never migrated."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def pending_revisions(current: str | None) -> tuple[str, ...]:
    """Return the revisions between ``current`` and head, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    newer = scripts.iterate_revisions("heads", current or "base")
    return tuple(reversed([script.revision for script in newer]))


def status(engine: Engine) -> StoreStatus:
    """Return current and head revisions, pending revisions and a row count per table."""
    current = current_revision(engine)
    existing = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        # read now, not at import: models in their own modules (funding) are registered too
        for table in Base.metadata.sorted_tables:
            if table.name in existing:
                counts[table.name] = connection.execute(
                    select(func.count()).select_from(table)
                ).scalar_one()
    return StoreStatus(
        url=redact_url(engine.url.render_as_string(hide_password=False)),
        current_revision=current,
        head_revision=head_revision(),
        pending_revisions=pending_revisions(current),
        table_counts=counts,
    )
