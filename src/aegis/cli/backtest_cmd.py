"""`aegis backtest`: run a strategy over a candle file and print (or write) the result.

Heavy modules (numpy, the engine, plotly) are imported inside the command: the whole process on
a million candles has a 3 s budget, and other commands must not pay for them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aegis.cli._usage import fail, parse_params

if TYPE_CHECKING:
    from rich.console import Console

    from aegis.backtest import BacktestResult
    from aegis.config import Settings
    from aegis.data import Candles
    from aegis.strategies import Strategy

_PROGRESS_MIN_CANDLES = 200_000


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
_MMAP_THRESHOLD_BYTES = 256 * 1024


def _no_numpy_huge_pages() -> None:
    """Keep numpy's arrays on ordinary pages in this process (before numpy is imported).

    numpy asks the kernel for transparent huge pages on every large array. Whether it gets
    them depends on the machine's memory at that moment, and a 2 MB page is resident whole,
    touched or not. The same backtest of a million candles has peaked at 192 MB and at 222-228
    MB at other moments; huge pages are one cause that varies with the moment, so this command
    does without them (no speed difference measured). ``NUMPY_MADVISE_HUGEPAGE=1`` in the
    environment still wins.
    """
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def _unmap_large_blocks() -> None:
    """Have glibc give every large freed block back to the OS at once (no-op elsewhere).

    glibc raises its mmap threshold after the first large free, so later candle-length numpy
    temporaries come from the heap and stay resident after they are freed (~6 MB of peak RSS
    on a million candles). A fixed threshold, which also turns the dynamic one off, keeps each
    block of 256 KB or more in its own mapping, unmapped when freed. Only this command's
    process is affected.
    """
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def _decimal_option(name: str, text: str | None) -> Any:
    from decimal import Decimal, InvalidOperation

    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"{name} {text!r} is not a number")
    if not value.is_finite():
        fail(f"{name} {text!r} must be finite")
    return value


def _load(data: Path, symbol: str | None, timeframe: str | None) -> Candles:
    from aegis.data import parse_timeframe, read_candles, resample
    from aegis.model.errors import AegisError

    if not data.is_file():
        fail(f"--data {data}: no such file")
    try:
        candles = read_candles(data, symbol=symbol)
    except (AegisError, OSError, ValueError) as exc:
        message = str(exc)
        fail(message if str(data) in message else f"--data {data}: {message}")
    if timeframe is None:
        return candles
    try:
        target_ms = parse_timeframe(timeframe)
    except (AegisError, ValueError) as exc:
        fail(f"--timeframe {timeframe!r}: {exc}")
    source_ms = candles.timeframe_ms
    if source_ms is None or target_ms == source_ms:
        return candles
    if target_ms < source_ms or target_ms % source_ms:
        fail(
            f"--timeframe {timeframe} cannot be built from the file's {source_ms} ms candles "
            "(only a coarser multiple can)"
        )
    return resample(candles, target_ms)


def _with_inputs(
    config: Any, candles: Candles, instrument_file: Path | None, funding_file: Path | None
) -> Any:
    """Return ``config`` with the instrument and funding files' contents (each optional)."""
    import dataclasses

    from aegis.backtest import check_funding_target, load_instrument
    from aegis.data import read_funding
    from aegis.model.errors import AegisError
    from aegis.model.instrument import Instrument

    symbol = config.symbol or candles.symbol
    instrument: Instrument | None = None
    if instrument_file is not None:
        if not instrument_file.is_file():
            fail(f"--instrument {instrument_file}: no such file")
        try:
            instrument = load_instrument(instrument_file, symbol)
        except AegisError as exc:
            fail(f"--instrument: {exc}")
        config = dataclasses.replace(config, symbol=instrument.symbol, instrument=instrument)
    if funding_file is None:
        return config
    if not funding_file.is_file():
        fail(f"--funding {funding_file}: no such file")
    try:
        series = read_funding(funding_file)
    except (AegisError, OSError, ValueError) as exc:
        message = str(exc)
        fail(message if str(funding_file) in message else f"--funding {funding_file}: {message}")
    # the instrument the run will use: the file's, else the permissive one of the symbol
    target = instrument or Instrument.permissive(symbol or "UNKNOWN/USDT")
    try:
        check_funding_target(target, series)
    except AegisError as exc:
        fail(f"--funding: {exc}")
    return dataclasses.replace(config, funding=series)


def _load_settings(path: Path) -> Settings:
    """Load ``path`` as ``aegis run --config`` does (``AEGIS_`` environment included).

    A missing, unreadable, non-UTF-8 or malformed file is a ``ConfigError`` of
    ``load_settings`` naming it, like a bad setting.
    """
    from aegis.config import load_settings
    from aegis.model.errors import AegisError

    try:
        return load_settings(path)
    except AegisError as exc:
        message = str(exc)
        fail(message if str(path) in message else f"--config {path}: {message}")


def _create(name: str, params: dict[str, object], label: str) -> Strategy:
    from aegis.model.errors import AegisError
    from aegis.strategies import create_strategy

    try:
        return create_strategy(name, params)
    except (AegisError, KeyError, ValueError, TypeError) as exc:
        given = f" with {params}" if params else ""
        fail(f"{label}{given}: {str(exc).strip(chr(39))}")


def _strategy(
    flag: str | None, flag_params: dict[str, str], path: Path | None, settings: Settings | None
) -> Strategy:
    """Return the strategy to backtest; a bad name or parameter names the flag or the file.

    ``--strategy`` overrides the file's ``strategy.name``; the file's ``strategy.params`` apply
    only to the strategy they were written for (the run's default one when the file names
    none), and each ``--param`` overrides its key.
    """
    if flag is not None:
        name, label = flag, f"--strategy {flag}"
    elif settings is not None and "name" in settings.strategy.model_fields_set:
        name = settings.strategy.name
        label = f"--config {path}: strategy {name}"
    elif settings is not None:
        fail(f"--config {path} sets no strategy.name: give --strategy NAME")
    else:
        fail("--strategy is required (or --config FILE with a strategy.name)")
    from_file: dict[str, object] = {}
    if settings is not None and name == settings.strategy.name:
        from_file = dict(settings.strategy.params)
        if from_file:  # the file's own parameters first, so that a bad one names the file
            _create(name, from_file, f"--config {path}: strategy {name}")
    return _create(name, from_file | flag_params, label)


def _summary(console: Console, result: BacktestResult, *, funding: bool = False) -> None:
    from rich.table import Table

    data = result.to_json()
    table = Table(title=f"Backtest: {result.strategy} on {result.symbol}", show_header=False)
    table.add_column("statistic", style="bold")
    table.add_column("value", justify="right")
    for key in (
        "candles", "trades", "round_trips", "initial_cash", "final_equity", "total_return",
        "sharpe", "sortino", "max_drawdown", "profit_factor", "exposure", "win_rate",
        "fees_paid", "funding_paid", "engine_seconds",
    ):  # fmt: skip
        if key == "funding_paid" and not funding:
            continue  # the table of a run without --funding stays as it was
        value = data.get(key)
        if value is None:
            text = "n/a"
        elif isinstance(value, float):
            percent = key in ("total_return", "max_drawdown", "exposure", "win_rate")
            text = f"{value:.4%}" if percent else f"{value:,.4f}"
        else:
            text = f"{value:,}" if isinstance(value, int) else str(value)
        table.add_row(key.replace("_", " "), text)
    console.print(table)
    for key, reason in data["null_reasons"].items():
        console.print(f"[dim]{key}: {reason}[/dim]")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


def backtest(
    data: Annotated[Path, typer.Option("--data", help="Candle file (CSV, .csv.gz, Parquet).")],
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", help="Strategy name, e.g. ema_cross (else the --config's)."),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Strategy parameter key=value (repeat).")
    ] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", help="Unified symbol.")] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="Resample to this coarser timeframe.")
    ] = None,
    cash: Annotated[
        str | None, typer.Option("--cash", help="Starting cash (quote) [default: 100000].")
    ] = None,
    fee_bps: Annotated[
        str | None, typer.Option("--fee-bps", help="Fee per fill, bps [default: 10].")
    ] = None,
    size: Annotated[str | None, typer.Option("--size", help="Fixed quantity per entry.")] = None,
    fraction: Annotated[
        str | None, typer.Option("--fraction", help="Fraction of equity per entry.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the simulation [default: 0].")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the HTML report here.")
    ] = None,
    instrument: Annotated[
        Path | None,
        typer.Option("--instrument", help="Binance exchangeInfo JSON: use the symbol's filters."),
    ] = None,
    funding: Annotated[
        Path | None,
        typer.Option("--funding", help="Funding CSV (timestamp_ms,funding_rate); perpetuals."),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config", help="TOML settings of `aegis run`: its risk, sizing and strategy."
        ),
    ] = None,
) -> None:
    """Backtest a strategy on a candle file through the live order pipeline."""
    _no_numpy_huge_pages()
    if size is not None and fraction is not None:
        fail("--size and --fraction are mutually exclusive: give one of them")
    flags = {
        "cash": _decimal_option("--cash", cash),
        "fee_bps": _decimal_option("--fee-bps", fee_bps),
        "size": _decimal_option("--size", size),
        "fraction": _decimal_option("--fraction", fraction),
    }
    flag_params = parse_params(param or [])
    # the settings module (pydantic-settings) is imported only for --config
    settings = _load_settings(config_file) if config_file is not None else None

    from aegis.backtest import BacktestConfig
    from aegis.model.errors import AegisError

    given_flags = {key: value for key, value in flags.items() if value is not None}
    try:
        # the flags alone first, so that an error here names the flag, not the file
        config = BacktestConfig(seed=0 if seed is None else seed, symbol=symbol, **given_flags)
    except AegisError as exc:
        fail(str(exc))
    if settings is not None:
        try:
            config = BacktestConfig.from_settings(settings, seed=seed, symbol=symbol, **flags)
        except AegisError as exc:
            fail(f"--config {config_file}: {exc}")
    instance = _strategy(strategy, flag_params, config_file, settings)
    _unmap_large_blocks()
    candles = _load(data, symbol, timeframe)
    if instrument is not None or funding is not None:
        config = _with_inputs(config, candles, instrument, funding)
    _run_and_print(candles, instance, config, json_output, report)


def _run_and_print(
    candles: Candles, strategy: Any, config: Any, json_output: bool, report: Path | None
) -> None:
    import json

    from aegis.backtest import run_backtest
    from aegis.model.errors import AegisError

    show_progress = (
        not json_output and sys.stdout.isatty() and len(candles) >= _PROGRESS_MIN_CANDLES
    )
    try:
        if show_progress:
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(), transient=True) as bar:
                task = bar.add_task("backtest", total=len(candles))
                result = run_backtest(
                    candles, strategy, config,
                    progress=lambda done, total: bar.update(task, completed=done),
                )  # fmt: skip
        else:
            result = run_backtest(candles, strategy, config)
    except AegisError as exc:
        fail(f"backtest of {candles.source or 'the data'}: {exc}")
    written: Path | None = None
    if report is not None:
        from aegis.backtest import write_report

        try:
            written = write_report(result, report)
        except OSError as exc:
            fail(f"--report {report}: {exc}")
    if json_output:
        payload = result.to_json()
        if written is not None:
            payload["report"] = str(written)
        sys.stdout.write(json.dumps(payload, allow_nan=False) + "\n")
        return
    # rich only for the human-readable table: the --json path never imports it
    from rich.console import Console

    console = Console()
    _summary(console, result, funding=config.funding is not None)
    if written is not None:
        console.print(f"Report written to [bold]{written}[/bold]")


def register(app: typer.Typer) -> None:
    """Add `aegis backtest` to the root app."""
    app.command("backtest")(backtest)
