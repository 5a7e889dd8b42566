"""`aegis db`: migrate the database and show its schema state (PE1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from aegis.store import Store

db_app = typer.Typer(
    name="db",
    no_args_is_help=True,
    help="Database: apply migrations, show the schema revision and row counts.",
)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the embedded SQLite file aegis.db (default: AEGIS_DATA_DIR or .aegis).",
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql://user@host/db (default: AEGIS_DATABASE_URL).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the `db` command group to the root app."""
    app.add_typer(db_app, name="db")


def _open_store(data_dir: Path | None, database_url: str | None) -> Store:
    import os

    from aegis.model import ConfigError
    from aegis.store import Store, database_url_from_env, normalise_database_url

    if data_dir is None:
        data_dir = Path(os.environ.get("AEGIS_DATA_DIR") or ".aegis")
    try:
        url = (
            normalise_database_url(database_url)
            if database_url
            else database_url_from_env(data_dir)
        )
        return Store(url)
    except ConfigError as error:
        raise typer.BadParameter(str(error), param_hint="--database-url") from error


@db_app.command("upgrade")
def upgrade(
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Migrate the database to the newest schema; existing data is kept."""
    store = _open_store(data_dir, database_url)
    try:
        before = store.status().current_revision
        store.upgrade(revision)
        after = store.status()
    finally:
        store.close()
    typer.echo(
        f"database {after.url}: {before or 'empty'} -> {after.current_revision} "
        f"(head {after.head_revision})"
    )


@db_app.command("status")
def status(
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the current and head revisions, pending migrations and row counts per table.

    Exits with 1 when migrations are pending.
    """
    store = _open_store(data_dir, database_url)
    try:
        result = store.status()
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        typer.echo(f"database: {result.url}")
        typer.echo(f"revision: {result.current_revision or 'none'} (head {result.head_revision})")
        pending = ", ".join(result.pending_revisions) or "none"
        typer.echo(f"pending:  {pending}")
        for table, count in sorted(result.table_counts.items()):
            typer.echo(f"  {table:<28} {count:>10}")
    if not result.is_current:
        raise typer.Exit(code=1)
