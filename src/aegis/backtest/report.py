"""Self-contained HTML report of a backtest (BT2): equity, drawdown, price with trades, tables.

The page embeds plotly.js (``include_plotlyjs=True``), so it opens offline. Large runs are
downsampled for plotting only: each plotted series keeps at most ``max_points`` points, chosen by
min/max bucketing (the lowest and highest point of every bucket survive, so spikes and the deepest
drawdown stay visible); trade markers are thinned by stride past ``MAX_MARKERS`` and the trade table
lists the first ``MAX_TABLE_ROWS`` round trips. Every text that comes from data (symbol, strategy,
params, warnings, null reasons) is HTML-escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import numpy as np

from aegis.backtest.metrics import Metrics
from aegis.data import format_timeframe

__all__ = [
    "DEFAULT_MAX_POINTS",
    "MAX_MARKERS",
    "MAX_TABLE_ROWS",
    "BacktestResultLike",
    "RoundTripLike",
    "minmax_indices",
    "write_report",
]

DEFAULT_MAX_POINTS = 5_000
MAX_MARKERS = 5_000
MAX_TABLE_ROWS = 1_000

Number = Decimal | float | int


class RoundTripLike(Protocol):
    """The round-trip fields the report reads (``aegis.backtest.RoundTrip`` satisfies it).

    ``funding`` (received while the trade was open) is read too when the object has it.
    """

    @property
    def side(self) -> object: ...
    @property
    def entry_ts_ms(self) -> int: ...
    @property
    def exit_ts_ms(self) -> int | None: ...
    @property
    def entry_price(self) -> Number: ...
    @property
    def exit_price(self) -> Number | None: ...
    @property
    def quantity(self) -> Number: ...
    @property
    def pnl(self) -> Number: ...
    @property
    def fees(self) -> Number: ...
    @property
    def is_open(self) -> bool: ...


class BacktestResultLike(Protocol):
    """The result fields the report reads (a Protocol: no import of result.py needed)."""

    @property
    def strategy(self) -> str: ...
    @property
    def params(self) -> Mapping[str, object]: ...
    @property
    def symbol(self) -> str | None: ...
    @property
    def timeframe_ms(self) -> int | None: ...
    @property
    def round_trips(self) -> Sequence[RoundTripLike]: ...
    @property
    def equity(self) -> np.ndarray: ...
    @property
    def ts_ms(self) -> np.ndarray: ...
    @property
    def close(self) -> np.ndarray: ...
    @property
    def initial_cash(self) -> Number: ...
    @property
    def final_equity(self) -> Number: ...
    @property
    def fees_paid(self) -> Number: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def warnings(self) -> Sequence[str]: ...
    @property
    def engine_seconds(self) -> float: ...


def minmax_indices(values: np.ndarray, max_points: int = DEFAULT_MAX_POINTS) -> np.ndarray:
    """Return sorted indices of at most ``max_points`` points that keep every bucket's min and max.

    The first and last points are always kept. Below ``max_points`` every index is returned.
    """
    if max_points < 4:
        raise ValueError(f"max_points must be >= 4, got {max_points}")
    n = int(values.size)
    if n <= max_points:
        return np.arange(n)
    buckets = (max_points - 2) // 2
    width = math.ceil(n / buckets)
    padded = np.concatenate([values, np.full(buckets * width - n, values[-1])])
    grid = padded.reshape(buckets, width)
    offsets = np.arange(buckets) * width
    lows = np.argmin(grid, axis=1) + offsets
    highs = np.argmax(grid, axis=1) + offsets
    keep = np.concatenate([[0, n - 1], lows, highs])
    return np.unique(np.minimum(keep, n - 1))


def _drawdown(equity: np.ndarray, initial: float) -> np.ndarray:
    peak = np.maximum(np.maximum.accumulate(equity), initial)
    drawdown: np.ndarray = (equity - peak) / peak
    return drawdown


def _iso(ts_ms: int | None) -> str:
    if ts_ms is None:
        return "open"
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _num(value: Number | None, digits: int = 8) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        # fixed notation (never 1E+5); a long quotient is rounded to ``digits`` significant digits
        exact = format(value.normalize(), "f")
        return (
            exact if len(exact.replace("-", "").replace(".", "")) <= 16 else f"{value:.{digits}g}"
        )
    return f"{value:.{digits}g}"


def _percent(fraction: float) -> str:
    # small returns and drawdowns (a 0.001 BTC position on 100,000 cash) must not print as 0.00 %
    percent = fraction * 100.0
    return f"{percent:.2f} %" if abs(percent) >= 0.01 or percent == 0 else f"{percent:.3g} %"


_PERCENT = {"total_return", "max_drawdown", "exposure", "win_rate"}
_LABELS = {
    "total_return": "Total return",
    "sharpe": "Sharpe (annualised, 365 d)",
    "sortino": "Sortino (annualised, 365 d)",
    "max_drawdown": "Max drawdown",
    "profit_factor": "Profit factor",
    "exposure": "Exposure",
    "win_rate": "Win rate",
    "avg_trade": "Average round trip PnL",
    "n_round_trips": "Closed round trips",
    "fees_paid": "Fees paid",
}


def _metric_rows(metrics: Metrics) -> list[tuple[str, str]]:
    rows = []
    for name, label in _LABELS.items():
        value = getattr(metrics, name)
        if value is None:
            reason = metrics.null_reasons.get(name, "not computed")
            text = f"n/a — {reason}"
        elif name in _PERCENT:
            text = _percent(value)
        elif name in ("sharpe", "sortino", "profit_factor"):
            text = f"{value:.3f}"
        else:
            text = _num(value)
        rows.append((label, text))
    return rows


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], css_class: str) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_TRADE_HEADER = ("#", "Side", "Entry", "Entry price", "Exit", "Exit price", "Qty", "Fees", "PnL")
_FUNDED_TRADE_HEADER = (*_TRADE_HEADER[:-1], "Funding", "PnL")


def _trade_rows(round_trips: Sequence[RoundTripLike], *, funded: bool) -> list[list[str]]:
    rows = []
    for number, trip in enumerate(round_trips[:MAX_TABLE_ROWS], start=1):
        row = [
            str(number),
            str(getattr(trip.side, "value", trip.side)),
            _iso(trip.entry_ts_ms),
            _num(trip.entry_price),
            _iso(trip.exit_ts_ms) if not trip.is_open else "open (marked to last close)",
            _num(trip.exit_price),
            _num(trip.quantity),
            _num(trip.fees),
        ]
        if funded:
            # received while the trade was open (negative: paid); already inside the PnL
            row.append(_num(getattr(trip, "funding", 0)))
        row.append(_num(trip.pnl))
        rows.append(row)
    return rows


def _is_funded(result: BacktestResultLike) -> bool:
    # only a run that settled funding has it (the field is optional on the protocol)
    return bool(getattr(result, "funding_payments", 0))


def _markers(
    round_trips: Sequence[RoundTripLike],
) -> tuple[list[int], list[float], list[int], list[float]]:
    entry_x = [trip.entry_ts_ms for trip in round_trips]
    entry_y = [float(trip.entry_price) for trip in round_trips]
    closed = [t for t in round_trips if t.exit_ts_ms is not None and t.exit_price is not None]
    exit_x = [int(t.exit_ts_ms) for t in closed if t.exit_ts_ms is not None]
    exit_y = [float(t.exit_price) for t in closed if t.exit_price is not None]
    stride = max(1, math.ceil(len(entry_x) / MAX_MARKERS))
    return entry_x[::stride], entry_y[::stride], exit_x[::stride], exit_y[::stride]


def _figures_html(result: BacktestResultLike, max_points: int) -> str:
    import plotly.graph_objects as go  # heavy: kept off the `aegis backtest` start-up path

    ts = np.asarray(result.ts_ms, dtype=np.int64)
    equity = np.asarray(result.equity, dtype=np.float64)
    close = np.asarray(result.close, dtype=np.float64)
    drawdown = _drawdown(equity, float(result.initial_cash)) * 100.0

    def dates(index: np.ndarray) -> np.ndarray:
        stamps: np.ndarray = ts[index].astype("datetime64[ms]")
        return stamps

    def layout(title: str, y_title: str) -> dict[str, object]:
        return {
            "title": {"text": title},
            "height": 380,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
            "yaxis": {"title": {"text": y_title}},
            "hovermode": "x unified",
        }

    price = go.Figure(layout=layout("Price and trades", "close"))
    index = minmax_indices(close, max_points)
    price.add_trace(go.Scattergl(x=dates(index), y=close[index], mode="lines", name="close"))
    entry_x, entry_y, exit_x, exit_y = _markers(result.round_trips)
    marker = {"size": 9, "line": {"width": 1, "color": "#222"}}
    price.add_trace(
        go.Scatter(
            x=np.asarray(entry_x, dtype="datetime64[ms]"),
            y=entry_y,
            mode="markers",
            name="entry",
            marker={**marker, "symbol": "triangle-up", "color": "#2ca02c"},
        )
    )
    price.add_trace(
        go.Scatter(
            x=np.asarray(exit_x, dtype="datetime64[ms]"),
            y=exit_y,
            mode="markers",
            name="exit",
            marker={**marker, "symbol": "triangle-down", "color": "#d62728"},
        )
    )
    equity_fig = go.Figure(layout=layout("Equity", "quote currency"))
    index = minmax_indices(equity, max_points)
    equity_fig.add_trace(go.Scattergl(x=dates(index), y=equity[index], mode="lines", name="equity"))
    drawdown_fig = go.Figure(layout=layout("Drawdown", "% below peak"))
    index = minmax_indices(drawdown, max_points)
    drawdown_fig.add_trace(
        go.Scatter(x=dates(index), y=drawdown[index], fill="tozeroy", mode="lines", name="drawdown")
    )
    parts = [
        equity_fig.to_html(full_html=False, include_plotlyjs=True, div_id="equity-chart"),
        drawdown_fig.to_html(full_html=False, include_plotlyjs=False, div_id="drawdown-chart"),
        price.to_html(full_html=False, include_plotlyjs=False, div_id="price-chart"),
    ]
    return "\n".join(parts)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 24px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; }
td:first-child, th:first-child { text-align: left; }
.warnings li { color: #8a4b00; }
.note { color: #666; font-size: 12px; }
"""


def _summary_rows(result: BacktestResultLike) -> list[tuple[str, str]]:
    ts = np.asarray(result.ts_ms)
    period = f"{_iso(int(ts[0]))} → {_iso(int(ts[-1]))} UTC" if ts.size else "no candles"
    params = ", ".join(f"{key}={value}" for key, value in result.params.items()) or "defaults"
    timeframe = "unknown" if result.timeframe_ms is None else format_timeframe(result.timeframe_ms)
    rows = [
        ("Strategy", f"{result.strategy} ({params})"),
        ("Symbol", result.symbol or "unknown"),
        ("Timeframe", timeframe),
        ("Candles", f"{ts.size:,}"),
        ("Period", period),
        ("Initial cash", _num(result.initial_cash)),
        ("Final equity", _num(result.final_equity)),
        ("Fees paid", _num(result.fees_paid)),
        ("Engine seconds", f"{result.engine_seconds:.4f}"),
    ]
    if _is_funded(result):
        rows.insert(-1, ("Funding paid", _num(getattr(result, "funding_paid", 0))))
    return rows


def write_report(
    result: BacktestResultLike, path: Path, *, max_points: int = DEFAULT_MAX_POINTS
) -> Path:
    """Write the backtest's self-contained HTML report to ``path`` and return the path.

    Raises:
        ValueError: the result's ``equity``, ``ts_ms`` and ``close`` differ in length.
    """
    sizes = {np.asarray(a).size for a in (result.equity, result.ts_ms, result.close)}
    if len(sizes) != 1:
        raise ValueError(
            f"equity, ts_ms and close must have the same length, got "
            f"{np.asarray(result.equity).size}, {np.asarray(result.ts_ms).size} and "
            f"{np.asarray(result.close).size}"
        )
    title = f"Aegis backtest — {result.strategy} on {result.symbol or 'unknown symbol'}"
    trips = result.round_trips
    funded = _is_funded(result)
    header = _FUNDED_TRADE_HEADER if funded else _TRADE_HEADER
    shown = min(len(trips), MAX_TABLE_ROWS)
    trade_note = (
        f"showing the first {shown:,} of {len(trips):,} round trips"
        if shown < len(trips)
        else f"{len(trips):,} round trips"
    )
    if funded:
        trade_note += "; PnL is net of fees and of the funding settled while each was open"
    warnings = (
        "".join(f"<li>{html.escape(text)}</li>" for text in result.warnings) or "<li>none</li>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
{_table(["Run", ""], _summary_rows(result), "summary")}
<h2>Warnings</h2><ul class="warnings">{warnings}</ul>
<h2>Metrics</h2>
{_table(["Statistic", "Value"], _metric_rows(result.metrics), "metrics")}
<p class="note">Sharpe and Sortino are annualised from the bar interval over 365 days; a statistic
without enough data is n/a with its reason (see docs/backtesting.md).</p>
<h2>Charts</h2>
<p class="note">Series longer than {max_points:,} points are downsampled for plotting by min/max
bucketing; the metrics use every bar.</p>
{_figures_html(result, max_points)}
<h2>Round trips</h2><p class="note">{html.escape(trade_note)}</p>
{_table(header, _trade_rows(trips, funded=funded), "trades")}
</body></html>
"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
