"""`aegis emulator`: run the Binance-compatible exchange emulator on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from aegis.venues.emulator import EmulatorConfig

#: Bundled real data replayed when no --data is given.
DEFAULT_DATA = (
    "binance-usdm_XRP-USDT-PERP_5m.csv.gz",
    "binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz",
    "unknown_BTC-USDT_5m.csv.gz",
)


def register(app: typer.Typer) -> None:
    """Add the `emulator` command to the root app."""
    app.command("emulator")(emulator)


def build_config(
    *,
    port: int,
    data: list[Path] | None,
    accounts: list[str] | None,
    balance: str,
    speed: str,
    faults: list[str] | None,
    history: int,
) -> tuple[EmulatorConfig, bool]:
    """Turn CLI options into an `EmulatorConfig`; the flag says a demo account was created.

    Raises ConfigError naming the option and the bad value.
    """
    from aegis.data import bundled_data_path
    from aegis.venues.emulator import AccountSpec, EmulatorConfig, parse_speed
    from aegis.venues.emulator.config import parse_decimal
    from aegis.venues.emulator.faults import parse_fault_assignment

    opening = parse_decimal("--balance", balance)
    specs = [AccountSpec.parse(text, opening) for text in accounts or []]
    is_demo = not specs
    if is_demo:
        specs = [AccountSpec.demo(opening)]
    files = tuple(data) if data else tuple(bundled_data_path(name) for name in DEFAULT_DATA)
    fault_values = dict(parse_fault_assignment(text) for text in faults or [])
    config = EmulatorConfig(
        data_files=files,
        accounts=tuple(specs),
        port=port,
        speed=parse_speed(speed),
        history_candles=history,
        faults=fault_values,
    )
    return config, is_demo


def emulator(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0 = any free port).")] = 8765,
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", help="Candle/trade/funding file to replay (repeatable)."),
    ] = None,
    account: Annotated[
        list[str] | None,
        typer.Option("--account", help="API key and secret as KEY:SECRET (repeatable)."),
    ] = None,
    balance: Annotated[str, typer.Option(help="Opening USDT balance of each account.")] = "10000",
    speed: Annotated[
        str, typer.Option(help="History seconds per wall second (60 = 1 min/s), or 'max'.")
    ] = "60",
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="Fault as NAME=VALUE (repeatable), e.g. http_429=0.1."),
    ] = None,
    history: Annotated[
        int, typer.Option(help="Candles already closed at start (served by REST klines).")
    ] = 100,
) -> None:
    """Run a Binance USD-M + spot emulator that unmodified ccxt can trade against."""
    from aegis.model.errors import AegisError

    try:
        config, is_demo = build_config(
            port=port, data=data, accounts=account, balance=balance, speed=speed,
            faults=fault, history=history,
        )  # fmt: skip
    except (AegisError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config, is_demo))


async def _serve(config: EmulatorConfig, is_demo: bool) -> None:
    from aegis.venues.emulator.server import EmulatorServer

    server = EmulatorServer(config)
    base_url = await server.start()
    typer.echo(f"emulator listening on {base_url} (speed {config.speed or 'max'})")
    symbols = sorted({feed.symbol_id for feed in server.exchange.data.candles})
    typer.echo(f"symbols with data: {', '.join(symbols)}")
    if is_demo:
        spec = config.accounts[0]
        typer.echo(f"demo account: api key {spec.api_key}")
        typer.echo(f"              secret  {spec.secret}")
    typer.echo("point ccxt at it with aegis.venues.emulator.configure_ccxt(exchange, base_url);")
    typer.echo(f"admin: {base_url}/_admin/stats, /_admin/faults, POST /_admin/step?candles=N")
    try:
        await asyncio.Event().wait()  # until Ctrl-C cancels the run
    finally:
        await server.stop()
