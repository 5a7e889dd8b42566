"""`aegis orders`: every order with its client order id and state, as stored (OR6)."""

from __future__ import annotations

from typing import Annotated

import typer

from aegis.cli.status_cmd import (
    ConfigOption,
    DataDirOption,
    JsonOption,
    TenantOption,
    UrlOption,
    echo_json,
    locate_store,
    open_store,
)


def orders(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    tenant: TenantOption = None,
    bot: Annotated[str | None, typer.Option("--bot", help="Only this bot's orders.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List orders (oldest first) with client order ids, venue ids and states."""
    from aegis.engine.status import orders_report

    location = locate_store(config, data_dir, database_url, tenant)
    with open_store(location) as store:
        rows = orders_report(store, location.tenant, bot)
    if json_output:
        echo_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['client_order_id']:<20} {row['bot_id']:<10} {row['symbol']:<16} "
                   f"{row['side']:<4} {row['quantity']:>12} {row['filled_quantity']:>12} "
                   f"{row['status']:<16} {row['tag']}")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add `aegis orders` to the root app."""
    app.command("orders")(orders)
