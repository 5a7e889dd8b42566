"""`aegis db`: migrate the database and show its schema state (PE1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aegis.cli.status_cmd import ConfigOption, DataDirOption, UrlOption, locate_store

if TYPE_CHECKING:
    from aegis.store import Store

db_app = typer.Typer(
    name="db",
    no_args_is_help=True,
    help="Database: apply migrations, show the schema revision and row counts.",
)


def register(app: typer.Typer) -> None:
    """Add the `db` command group to the root app."""
    app.add_typer(db_app, name="db")


def _open_store(config: Path | None, data_dir: Path | None, database_url: str | None) -> Store:
    # the bot's database, found as the other bot commands find it (settings file, flags)
    from aegis.store import Store

    return Store(locate_store(config, data_dir, database_url, None).database_url)


@db_app.command("upgrade")
def upgrade(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Migrate the database to the newest schema; existing data is kept."""
    store = _open_store(config, data_dir, database_url)
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
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the current and head revisions, pending migrations and row counts per table.

    Exits with 1 when migrations are pending.
    """
    store = _open_store(config, data_dir, database_url)
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
