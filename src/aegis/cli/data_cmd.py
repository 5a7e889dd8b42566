"""`aegis data`: check candle files for gaps and anomalies, import files into Parquet."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from aegis.data import CandleReport, Candles

EXIT_CLEAN = 0
EXIT_FOUND = 1
EXIT_UNREADABLE = 2
_MAX_LISTED = 10

data_app = typer.Typer(
    name="data",
    no_args_is_help=True,
    help="Market data files: quality checks (gaps, duplicates, outliers) and import to Parquet.",
)


def register(app: typer.Typer) -> None:
    """Add the `data` command group to the root app."""
    app.add_typer(data_app, name="data")


def _utc(ts_ms: int | None) -> str:
    if ts_ms is None:
        return "-"
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _timeframe_option(text: str | None) -> int | None:
    from aegis.data import parse_timeframe

    if text is None:
        return None
    try:
        return parse_timeframe(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--timeframe") from error


def _print_error(error: Exception) -> None:
    from rich.console import Console
    from rich.markup import escape

    # soft_wrap: one line per error, so that it can be grepped and copied whole
    Console(stderr=True, highlight=False).print(
        f"[red]error:[/red] {escape(str(error))}", soft_wrap=True
    )


def _first_strict_error(path: Path, report: CandleReport) -> str | None:
    """Name the line of the first row a strict read rejects (only when there is one)."""
    from aegis.data import read_candles
    from aegis.model.errors import DataError

    if not (report.duplicates or report.out_of_order or report.invalid):
        return None
    try:
        read_candles(path)
    except DataError as error:
        return str(error)
    return None


def _print_report(console: Console, report: CandleReport, first_error: str | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from aegis.data import format_timeframe

    console.print(f"[bold]{escape(str(report.file))}[/bold]", soft_wrap=True)
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    largest = report.largest_gap
    gap_text = f"{report.missing} in {len(report.gaps)} gap(s)"
    if largest is not None:
        gap_text += f"; largest {largest.missing} after {_utc(largest.after_ms)}"
    timeframe = "-" if report.timeframe_ms is None else format_timeframe(report.timeframe_ms)
    for field, value in (
        ("rows", str(report.rows)),
        ("first", _utc(report.first_ms)),
        ("last", _utc(report.last_ms)),
        ("timeframe", timeframe),
        ("missing", gap_text),
        ("duplicates", str(report.duplicates)),
        ("out of order", str(report.out_of_order)),
        ("off grid", str(report.off_grid)),
        ("invalid rows", str(report.invalid)),
        ("flat", str(report.flat)),
        ("zero volume", str(report.zero_volume)),
        ("no volume", str(report.no_volume)),
        ("outliers", str(len(report.outliers))),
    ):
        table.add_row(field, value)
    for outlier in report.outliers[:_MAX_LISTED]:
        table.add_row("", f"{_utc(outlier.ts_ms)} {outlier.kind} {outlier.size:+.1%}")
    if len(report.outliers) > _MAX_LISTED:
        table.add_row("", f"... {len(report.outliers) - _MAX_LISTED} more (see --json)")
    if first_error is not None:
        table.add_row("first error", escape(first_error))
    verdict = "[green]clean[/green]" if report.is_clean else "[yellow]issues found[/yellow]"
    table.add_row("verdict", verdict)
    console.print(table)


@data_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="Candle files: CSV, .csv.gz or Parquet.")],
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="Expected timeframe (e.g. 5m); inferred.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per file (JSON Lines).")
    ] = False,
    max_jump: Annotated[
        float, typer.Option(help="Close-to-close move (fraction) reported as an outlier.")
    ] = 0.10,
    max_range: Annotated[
        float, typer.Option(help="(high - low) / low (fraction) reported as an outlier.")
    ] = 0.15,
) -> None:
    """Report rows, gaps, duplicates, ordering, flat/zero-volume candles and outliers (EX5).

    Exit 0 when every file is clean, 1 when something was found, 2 when a file is unreadable.
    """
    from rich.console import Console

    from aegis.data import check_candles, read_candles
    from aegis.model.errors import DataError

    timeframe_ms = _timeframe_option(timeframe)
    console = Console(highlight=False)
    exit_code = EXIT_CLEAN
    for path in files:
        try:
            candles = read_candles(path, timeframe_ms=timeframe_ms, strict=False)
        except DataError as error:
            exit_code = EXIT_UNREADABLE
            if json_output:
                sys.stdout.write(json.dumps({"file": str(path), "error": str(error)}) + "\n")
            _print_error(error)
            continue
        report = check_candles(
            candles, timeframe_ms, file=str(path), max_jump=max_jump, max_range=max_range
        )
        if not report.is_clean:
            exit_code = max(exit_code, EXIT_FOUND)
        first_error = _first_strict_error(path, report)
        if json_output:
            sys.stdout.write(json.dumps({**report.to_json(), "first_error": first_error}) + "\n")
        else:
            _print_report(console, report, first_error)
    raise typer.Exit(exit_code)


def _same_candles(left: Candles, right: Candles) -> bool:
    import numpy as np

    return len(left) == len(right) and all(
        np.array_equal(getattr(left, name), getattr(right, name), equal_nan=True)
        for name in ("ts_ms", "open", "high", "low", "close", "volume")
    )


def _import_one(
    source: Path, target_dir: Path, symbol: str | None, force: bool
) -> dict[str, object]:
    from aegis.data import format_timeframe, read_candles, write_parquet
    from aegis.data.naming import strip_data_extension

    candles = read_candles(source, symbol=symbol)
    target = target_dir / f"{strip_data_extension(source.name)}.parquet"
    status = "written"
    if target.exists():
        if _same_candles(read_candles(target, strict=False), candles):
            status = "unchanged"
        elif not force:
            status = "refused"
    if status == "written":
        write_parquet(candles, target)
    timeframe_ms = candles.timeframe_ms
    return {
        "source": str(source),
        "target": str(target),
        "status": status,
        "rows": len(candles),
        "symbol": candles.symbol,
        "timeframe": None if timeframe_ms is None else format_timeframe(timeframe_ms),
        "first_ms": int(candles.ts_ms[0]) if len(candles) else None,
        "last_ms": int(candles.ts_ms[-1]) if len(candles) else None,
    }


@data_app.command("import")
def import_files(
    sources: Annotated[list[Path], typer.Argument(help="Candle files: CSV, .csv.gz or Parquet.")],
    to: Annotated[Path, typer.Option("--to", help="Destination folder (created if needed).")],
    symbol: Annotated[
        str | None, typer.Option(help="Unified symbol, e.g. BTC/USDT; default: from the name.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite a different existing file.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per file (JSON Lines).")
    ] = False,
) -> None:
    """Validate candle files strictly and store them as Parquet in a folder (EX8).

    Exit 0 when everything was written (or already there), 1 when an existing different file
    was left alone (use --force), 2 when a source is unreadable or invalid.
    """
    from rich.console import Console
    from rich.progress import Progress

    from aegis.model.errors import DataError

    console = Console(highlight=False)
    to.mkdir(parents=True, exist_ok=True)
    exit_code = EXIT_CLEAN
    hide = json_output or not console.is_terminal
    with Progress(console=console, disable=hide, transient=True) as progress:
        task = progress.add_task("importing", total=len(sources))
        for source in sources:
            progress.update(task, description=f"importing {source.name}")
            try:
                result = _import_one(source, to, symbol, force)
            except DataError as error:
                exit_code = EXIT_UNREADABLE
                if json_output:
                    line = {"source": str(source), "status": "error", "error": str(error)}
                    sys.stdout.write(json.dumps(line) + "\n")
                _print_error(error)
                progress.advance(task)
                continue
            if result["status"] == "refused":
                exit_code = max(exit_code, EXIT_FOUND)
            progress.advance(task)
            if json_output:
                sys.stdout.write(json.dumps(result) + "\n")
            else:
                _print_import(console, result)
    raise typer.Exit(exit_code)


def _print_import(console: Console, result: dict[str, object]) -> None:
    from rich.markup import escape

    status = result["status"]
    if status == "refused":
        console.print(
            f"[yellow]refused[/yellow] {escape(str(result['target']))}: exists with different "
            "candles (use --force to overwrite)",
            soft_wrap=True,
        )
        return
    first, last = result["first_ms"], result["last_ms"]
    span = f"{_utc(first if isinstance(first, int) else None)} .. "
    span += _utc(last if isinstance(last, int) else None)
    console.print(
        f"{status} {escape(str(result['target']))}: {result['rows']} candles, "
        f"{result['symbol'] or '-'} {result['timeframe'] or '-'}, {span} UTC",
        soft_wrap=True,
    )
