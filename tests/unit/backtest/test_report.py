"""HTML report: self-contained plots, escaped text, nulls with reasons, bounded size."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aegis.backtest.metrics import Metrics, compute_metrics
from aegis.backtest.report import minmax_indices, write_report

MINUTE_MS = 60_000
START_MS = 1_700_000_000_000


@dataclass(frozen=True, slots=True)
class FakeRoundTrip:
    side: str
    entry_ts_ms: int
    exit_ts_ms: int | None
    entry_price: Decimal
    exit_price: Decimal | None
    quantity: Decimal
    pnl: Decimal
    fees: Decimal
    is_open: bool


@dataclass(frozen=True, slots=True)
class FakeResult:
    strategy: str
    params: dict[str, Any]
    symbol: str
    timeframe_ms: int
    round_trips: list[FakeRoundTrip]
    equity: np.ndarray
    ts_ms: np.ndarray
    close: np.ndarray
    initial_cash: Decimal
    final_equity: Decimal
    fees_paid: Decimal
    metrics: Metrics
    warnings: list[str] = field(default_factory=list)
    engine_seconds: float = 0.012


def _result(n: int = 300, *, warnings: list[str] | None = None, symbol: str = "BTC/USDT") -> Any:
    rng = np.random.default_rng(3)
    close = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.002, n))
    ts = START_MS + np.arange(n, dtype=np.int64) * MINUTE_MS
    equity = 100_000.0 + np.cumsum(rng.normal(0.0, 1.0, n))
    trips = [
        FakeRoundTrip(
            "long", int(ts[10]), int(ts[40]), Decimal("100.5"), Decimal("101.25"),
            Decimal("0.001"), Decimal("0.0005"), Decimal("0.0002"), False,
        ),
        FakeRoundTrip(
            "long", int(ts[n - 20]), None, Decimal("99.75"), None,
            Decimal("0.001"), Decimal("-0.0003"), Decimal("0.0001"), True,
        ),
    ]  # fmt: skip
    metrics = compute_metrics(
        equity=equity,
        ts_ms=ts,
        bar_interval_ms=MINUTE_MS,
        initial_equity=100_000.0,
        round_trip_pnls=[0.0005],
        exposure_bars=50,
        fees_paid=0.0003,
    )
    return FakeResult(
        strategy="ema_cross",
        params={"fast": 12, "slow": 26},
        symbol=symbol,
        timeframe_ms=MINUTE_MS,
        round_trips=trips,
        equity=equity,
        ts_ms=ts,
        close=close,
        initial_cash=Decimal("100000"),
        final_equity=Decimal(repr(float(equity[-1]))),
        fees_paid=Decimal("0.0003"),
        metrics=metrics,
        warnings=warnings or [],
    )


def test_report_has_the_three_charts_and_plotly_inline(tmp_path: Path) -> None:
    path = write_report(_result(), tmp_path / "out" / "report.html")
    text = path.read_text(encoding="utf-8")
    for div in ("equity-chart", "drawdown-chart", "price-chart"):
        assert f'id="{div}"' in text
    assert "Plotly.newPlot" in text
    assert not re.search(r"<script[^>]+src=", text)  # self-contained: no external script
    assert text.count("<tr>") >= 2 + 10  # trade rows + metric rows


def test_report_escapes_warnings_and_symbol(tmp_path: Path) -> None:
    result = _result(warnings=["gap <script>alert('x')</script> after 12:00"], symbol="<b>X</b>")
    text = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "<script>alert(" not in text
    assert "&lt;b&gt;X&lt;/b&gt;" in text
    assert "<b>X</b>" not in text


def test_report_shows_null_metrics_with_their_reason(tmp_path: Path) -> None:
    text = write_report(_result(), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "n/a — no losing round trips: profit factor undefined" in text
    assert "open (marked to last close)" in text
    assert "2023-11-14 22:23" in text  # first trade's entry, UTC


def test_report_prints_money_in_fixed_notation_and_tiny_percentages(tmp_path: Path) -> None:
    text = write_report(_result(), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<td>Initial cash</td><td>100000</td>" in text  # not 1E+5
    assert "<td>Timeframe</td><td>1m</td>" in text
    assert "<td>101.25</td>" in text
    drawdown = re.search(r"<td>Max drawdown</td><td>([^<]*)</td>", text)
    assert drawdown is not None
    assert drawdown.group(1) != "0.00 %"  # a 0.004 % drawdown must not read as zero
    assert drawdown.group(1).endswith(" %")


def test_large_run_is_downsampled_so_the_file_stays_small(tmp_path: Path) -> None:
    small = write_report(_result(1_000), tmp_path / "small.html").stat().st_size
    large = write_report(_result(200_000), tmp_path / "large.html").stat().st_size
    # plotly.js dominates; 200x the bars adds well under 1 MB
    assert large - small < 1_000_000


def test_minmax_indices_keep_extremes_and_bound_the_count() -> None:
    rng = np.random.default_rng(11)
    values = np.cumsum(rng.normal(size=100_003))
    index = minmax_indices(values, 1_000)
    assert index.size <= 1_000
    assert index[0] == 0
    assert index[-1] == values.size - 1
    assert np.all(np.diff(index) > 0)
    assert values.argmin() in index
    assert values.argmax() in index


def test_minmax_indices_returns_everything_for_short_series() -> None:
    assert minmax_indices(np.arange(10.0), 100).tolist() == list(range(10))


def test_mismatched_series_are_rejected(tmp_path: Path) -> None:
    base = _result(50)
    broken = FakeResult(
        **{name: getattr(base, name) for name in base.__dataclass_fields__ if name != "close"},
        close=base.close[:-1],
    )
    with pytest.raises(ValueError, match="same length, got 50, 50 and 49"):
        write_report(broken, tmp_path / "r.html")
