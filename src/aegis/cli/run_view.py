"""Run a session for `aegis run`: logging, the live Rich view, the final summary, exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from aegis.config import Settings
    from aegis.engine.runtime import TradingRuntime
    from aegis.engine.session import SessionInfo

EXIT_PREFLIGHT = 3
EXIT_UNSETTLED = 4
_VIEW_REFRESH_S = 0.5


def _secrets(settings: Settings) -> list[str]:
    exchange = settings.exchange
    return [s.get_secret_value() for s in (exchange.api_key, exchange.api_secret) if s is not None]


def render(info: SessionInfo, runtime: TradingRuntime) -> RenderableType:
    """Return the live view: positions and PnL, feeds, last decisions and their thoughts."""
    from rich.console import Group
    from rich.table import Table

    manager = runtime.pipeline.order_manager
    portfolio = manager.portfolio
    header = Table.grid(padding=(0, 2))
    header.add_row(
        f"[bold]{info.mode}[/bold] on {info.venue}",
        f"equity {runtime.equity():,.4f}",
        f"realised {portfolio.realised_pnl:+,.4f}",
        f"fees {portfolio.fees_paid:,.4f}",
        f"fills {len(runtime.pipeline.fills)}",
    )
    positions = Table(title="positions", expand=True)
    for column in ("symbol", "quantity", "last close", "feed", "age s"):
        positions.add_column(column)
    now = runtime.clock()
    for symbol in runtime.options.symbols:
        health = runtime.feed.health(symbol)
        age = health.age_ms(now)
        positions.add_row(
            symbol,
            str(manager.net_quantity(symbol)),
            str(runtime.last_close.get(symbol, "-")),
            str(health.state),
            "-" if age is None else f"{age / 1000:.1f}",
        )
    decisions = Table(title="last decisions", expand=True)
    decisions.add_column("ts_ms")
    decisions.add_column("symbol")
    decisions.add_column("action")
    decisions.add_column("thought")
    for decision in list(runtime.record.recent_decisions)[-8:]:
        decisions.add_row(
            str(decision.ts_ms), decision.symbol, decision.action.name, decision.thought
        )
    url = info.health_url
    footer = f"health {url}/health  ready {url}/ready  metrics {url}/metrics"
    return Group(header, positions, decisions, footer)


def _view_factory(console: Console) -> Any:
    async def view(info: SessionInfo, runtime: TradingRuntime) -> None:
        from rich.live import Live

        with Live(render(info, runtime), console=console, refresh_per_second=4) as live:
            while True:
                await asyncio.sleep(_VIEW_REFRESH_S)
                live.update(render(info, runtime))

    return view


def _announce(console: Console, json_output: bool) -> Any:
    def started(info: SessionInfo, runtime: TradingRuntime) -> None:
        if json_output:
            return
        report = info.preflight
        if report is not None:
            for check in report.checks:
                console.print(f"[green]ok[/green] {check.name}: {check.detail}")
        console.print(
            f"health {info.health_url}/health  ready {info.health_url}/ready  "
            f"metrics {info.health_url}/metrics"
        )
        if info.emulator_url is not None:
            console.print(f"emulator {info.emulator_url}")

    return started


def run_and_report(settings: Settings, *, json_output: bool) -> int:
    """Run the session and print its outcome; return the process exit code."""
    from rich.console import Console

    from aegis.engine.logs import configure_logging
    from aegis.engine.preflight import PreflightFailed
    from aegis.engine.session import RunSession
    from aegis.model.errors import AegisError

    console = Console(stderr=json_output)
    log_path = configure_logging(
        settings.data_dir,
        secrets=_secrets(settings),
        max_bytes=settings.runtime.log_max_bytes,
        backups=settings.runtime.log_backups,
    )
    show_view = not json_output and sys.stdout.isatty()
    session = RunSession(
        settings,
        on_started=_announce(console, json_output),
        view=_view_factory(console) if show_view else None,
    )
    started = time.perf_counter()
    try:
        result = asyncio.run(session.run())
    except PreflightFailed as error:
        typer.echo(f"error: {error}", err=True)
        return EXIT_PREFLIGHT
    except AegisError as error:
        typer.echo(f"error: {error}", err=True)
        return 2
    from aegis.cli.run_summary import build_summary

    summary = build_summary(result, started)
    summary["run"]["log_file"] = str(log_path)
    if json_output:
        sys.stdout.write(json.dumps(summary, allow_nan=False, default=_default) + "\n")
    else:
        print_summary(console, summary)
    return EXIT_UNSETTLED if result.unsettled else 0


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    """Print the run's summary table, formatted like ``aegis backtest`` (``--json`` is not)."""
    from rich.table import Table

    from aegis.cli.run_summary import summary_rows

    table = Table(title=f"Run: {summary['strategy']} on {summary['symbol']}", show_header=False)
    table.add_column("statistic", style="bold")
    table.add_column("value", justify="right")
    for label, text in summary_rows(summary):
        table.add_row(label, text)
    console.print(table)
    for warning in summary.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}")
