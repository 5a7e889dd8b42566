"""`aegis status`: bots, open orders, positions, breakers and what the last start restored.

Also holds the options and the store locator shared by `aegis orders` and the control commands.
The bot's store is found the way `aegis run` finds it: from the bot's settings (``--config
FILE``, else ``AEGIS_CONFIG_FILE``; the ``AEGIS_`` environment; defaults), with ``--data-dir``,
``--database-url`` and ``--tenant`` overriding them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aegis.cli._usage import fail

if TYPE_CHECKING:
    from aegis.config import Settings
    from aegis.store import Store

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The bot's TOML settings file, as given to `aegis run --config`: data_dir, "
        "database.url, database.tenant, exchange.* (default: AEGIS_CONFIG_FILE).",
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder of the runtime (default: data_dir of the settings: AEGIS_DATA_DIR, "
        "the --config file, else .aegis).",
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database URL (default: database.url of the settings, else AEGIS_DATABASE_URL, "
        "else SQLite in the data folder).",
    ),
]
TenantOption = Annotated[
    str | None,
    typer.Option("--tenant", help="Tenant (default: database.tenant of the settings, 'default')."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

_CONFIG_ENV = "AEGIS_CONFIG_FILE"


@dataclass(frozen=True, slots=True)
class BotStore:
    """Where a bot's store is, and the settings it was located from."""

    settings: Settings
    config_file: Path | None
    data_dir: Path
    database_url: str
    tenant: str

    @property
    def source(self) -> str:
        """Return where the settings came from, for messages: the file, or the environment."""
        if self.config_file is None:
            return "settings from the AEGIS_ environment and defaults"
        return f"config file {self.config_file}"

    def to_json(self) -> dict[str, Any]:
        """Return the location as JSON (password masked)."""
        from aegis.store import redact_url

        return {
            "config": None if self.config_file is None else str(self.config_file),
            "data_dir": str(self.data_dir),
            "database": redact_url(self.database_url),
            "tenant": self.tenant,
            "mode": self.settings.mode,
        }


def locate_store(
    config: Path | None, data_dir: Path | None, database_url: str | None, tenant: str | None
) -> BotStore:
    """Load the bot's settings as `aegis run` does; exit 2 naming the file and the setting.

    ``config`` defaults to ``AEGIS_CONFIG_FILE`` (a named file that does not exist is an
    error either way). Explicit ``data_dir``, ``database_url`` and ``tenant`` override it.
    """
    from aegis.config import load_settings
    from aegis.engine.assembly import database_url as settings_database_url
    from aegis.model import ConfigError
    from aegis.store import normalise_database_url

    file = config
    if file is None and os.environ.get(_CONFIG_ENV):
        file = Path(os.environ[_CONFIG_ENV])
    overrides = {"data_dir": data_dir, "database": {"url": database_url, "tenant": tenant}}
    try:
        settings = load_settings(file, **overrides)
    except ConfigError as error:
        message = str(error)
        fail(message if file is None or str(file) in message else f"config file {file}: {message}")
    url = settings_database_url(settings)
    try:
        url = normalise_database_url(url)
    except ConfigError as error:
        fail(f"{_url_origin(database_url, settings, file)}: {error}")
    return BotStore(settings, file, Path(settings.data_dir), url, settings.database.tenant)


def _url_origin(flag: str | None, settings: Settings, file: Path | None) -> str:
    if flag:
        return "--database-url"
    if settings.database.url:
        if os.environ.get("AEGIS_DATABASE__URL") or file is None:
            return "setting database.url (AEGIS_DATABASE__URL)"
        return f"config file {file}: setting database.url"
    return "AEGIS_DATABASE_URL"


def open_store(location: BotStore) -> Store:
    """Open (and migrate) the bot's store; exit 2 naming the database when it cannot be."""
    from sqlalchemy.exc import SQLAlchemyError

    from aegis.store import Store, redact_url

    store = Store(location.database_url)  # lazy: nothing is connected before the upgrade
    try:
        store.upgrade()
    except SQLAlchemyError as error:
        store.close()
        reason = str(error).splitlines()[0]
        fail(f"cannot open the store {redact_url(location.database_url)} "
             f"({location.source}): {reason}")  # fmt: skip
    return store


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    typer.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def status(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    tenant: TenantOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show bots, open orders, positions, breakers, kill switch and what was restored."""
    from aegis.engine.status import status_report

    location = locate_store(config, data_dir, database_url, tenant)
    with open_store(location) as store:
        report = status_report(store, location.tenant, location.data_dir)
    report["store"] = location.to_json()
    if json_output:
        echo_json(report)
        return
    typer.echo(f"database {report['database']}  tenant {location.tenant}  ({location.source})")
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
        later = (
            " (the kill switch latches when a runtime takes it)"
            if request["action"] == "kill"
            else ""
        )
        typer.echo(f"pending control: {request['action']} by {request['actor']}{later}")


def register(app: typer.Typer) -> None:
    """Add `aegis status` to the root app."""
    app.command("status")(status)
