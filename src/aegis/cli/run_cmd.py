"""`aegis run`: paper or live trading through ccxt (or against the in-process emulator).

Settings come from ``aegis.config.load_settings`` (CLI flags > ``AEGIS_`` environment > TOML
file). Invalid settings exit 2 with the setting named; a failed preflight exits 3; orders left
in an unknown state after shutdown exit 4; a run that stops normally (signal, end of a
``--speed max`` replay) exits 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aegis.cli._usage import fail, parse_params


def _overrides(values: dict[str, Any]) -> dict[str, Any]:
    symbols = values["symbols"]
    return {
        "mode": values["mode"],
        "data_dir": values["data_dir"],
        "exchange": {"name": values["exchange"], "url": values["exchange_url"]},
        "market": {
            "symbols": [s for item in symbols for s in item.split(",") if s] if symbols else None,
            "timeframe": values["timeframe"],
            "data": values["data"] or None,
            "speed": values["speed"],
        },
        "strategy": {
            "name": values["strategy"],
            "params": parse_params(values["param"]) if values["param"] else None,
        },
        "sizing": {
            "quantity": values["size"],
            "fraction": values["fraction"],
            "cash": values["cash"],
            "fee_bps": values["fee_bps"],
        },
        "server": {"port": values["port"]},
    }


def run(
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="paper or live.")] = None,
    exchange: Annotated[
        str | None,
        typer.Option("--exchange", help="binanceusdm, binance, kraken, coinbase or emulator."),
    ] = None,
    symbols: Annotated[
        list[str] | None, typer.Option("--symbols", help="Unified symbols (repeat or comma).")
    ] = None,
    timeframe: Annotated[str | None, typer.Option("--timeframe", help="e.g. 5m.")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="Strategy name.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Strategy parameter key=value (repeat).")
    ] = None,
    exchange_url: Annotated[
        str | None, typer.Option("--exchange-url", help="URL of an emulator that already runs.")
    ] = None,
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="Candle file(s) for the emulator.")
    ] = None,
    speed: Annotated[
        str | None, typer.Option("--speed", help="Emulator replay speed, or 'max' (stepped).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the run writes (default ./.aegis).")
    ] = None,
    size: Annotated[str | None, typer.Option("--size", help="Fixed quantity per entry.")] = None,
    fraction: Annotated[
        float | None, typer.Option("--fraction", help="Fraction of equity per entry.")
    ] = None,
    cash: Annotated[str | None, typer.Option("--cash", help="Paper / demo cash.")] = None,
    fee_bps: Annotated[
        str | None, typer.Option("--fee-bps", help="Paper fee per fill in bps (default: venue's).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Health / metrics port (0 = any free).")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary at the end.")
    ] = False,
) -> None:
    """Paper- or live-trade a strategy; Ctrl-C stops it gracefully."""
    from aegis.config import load_settings
    from aegis.model.errors import AegisError

    values = dict(locals())
    try:
        settings = load_settings(config, **_overrides(values))
    except AegisError as error:
        fail(str(error))
    from aegis.cli.run_view import run_and_report

    code = run_and_report(settings, json_output=json_output)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `aegis run` to the root app."""
    app.command("run")(run)
