"""`aegis status`: bots, open orders, positions, breakers and what the last start restored.

Also holds the options and the store opener shared by `aegis orders` and the control commands.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from aegis.store import Store

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data folder of the runtime (default: AEGIS_DATA_DIR or .aegis)."
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: AEGIS_DATABASE_URL or SQLite)."),
]
TenantOption = Annotated[str, typer.Option("--tenant", help="Tenant whose bots are shown.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def data_dir_of(data_dir: Path | None) -> Path:
    """Return the data folder: the option, else ``AEGIS_DATA_DIR``, else ``.aegis``."""
    return data_dir if data_dir is not None else Path(os.environ.get("AEGIS_DATA_DIR") or ".aegis")


def open_store(data_dir: Path, database_url: str | None) -> Store:
    """Open (and migrate) the store a runtime in ``data_dir`` uses; exit 2 on a bad URL."""
    from aegis.model import ConfigError
    from aegis.store import Store, database_url_from_env, normalise_database_url

    try:
        url = (
            normalise_database_url(database_url)
            if database_url
            else database_url_from_env(data_dir)
        )
        store = Store(url)
    except ConfigError as error:
        raise typer.BadParameter(str(error), param_hint="--database-url") from error
    store.upgrade()
    return store


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    typer.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def status(
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    tenant: TenantOption = "default",
    json_output: JsonOption = False,
) -> None:
    """Show bots, open orders, positions, breakers, kill switch and what was restored."""
    from aegis.engine.status import status_report

    folder = data_dir_of(data_dir)
    with open_store(folder, database_url) as store:
        report = status_report(store, tenant, folder)
    if json_output:
        echo_json(report)
        return
    typer.echo(f"database {report['database']}  tenant {tenant}")
    if not report["bots"]:
        typer.echo("no bots yet")
    for bot in report["bots"]:
        running = f"running (pid {bot['running_pid']})" if bot["running_pid"] else "not running"
        typer.echo(f"bot {bot['bot_id']}: {running}")
        typer.echo(f"  open orders: {len(bot['open_orders'])}")
        for order in bot["open_orders"]:
            typer.echo(f"    {order['client_order_id']} {order['symbol']} {order['side']} "
                       f"{order['quantity']} {order['status']}")  # fmt: skip
        for position in bot["positions"]:
            typer.echo(f"  position {position['symbol']} {position['side']} "
                       f"{position['quantity']} @ {position['average_entry_price']}")  # fmt: skip
        tripped = ", ".join(sorted(bot["breakers"])) or "none"
        typer.echo(f"  breakers tripped: {tripped}")
        typer.echo(f"  kill switch: {'latched' if bot['kill_switch'] else 'armed'}")
        if bot["restored"] is not None:
            typer.echo(f"  restored at last start: {json.dumps(bot['restored'], sort_keys=True)}")
    for request in report["pending_controls"]:
        typer.echo(f"pending control: {request['action']} by {request['actor']}")


def register(app: typer.Typer) -> None:
    """Add `aegis status` to the root app."""
    app.command("status")(status)
