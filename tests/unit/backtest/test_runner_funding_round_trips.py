"""On real perpetual data with the real funding series, round trips add up to the equity."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from aegis.backtest import (
    BacktestConfig,
    BacktestResult,
    RoundTrips,
    load_instrument,
    run_backtest,
)
from aegis.data import Funding, read_candles, read_funding
from aegis.strategies import create_strategy

MARKETS = Path(__file__).resolve().parents[3] / "src" / "aegis" / "resources" / "markets"
FUNDING = "binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz"
# 8h candles open exactly at each funding time, which Binance stamps a few ms later: every
# fill there shares its second with a settlement. The 5m file settles mid-series.
CASES = [
    ("binance-usdm_XRP-USDT-PERP_8h.csv.gz", {"fast": 3, "slow": 8}),
    ("binance-usdm_XRP-USDT-PERP_5m.csv.gz", {"fast": 12, "slow": 26}),
]


@pytest.fixture(scope="module")
def funding(real_data_dir: Path) -> Funding:
    return read_funding(real_data_dir / FUNDING)


def _run(
    real_data_dir: Path, name: str, params: dict[str, int], funding: Funding | None
) -> BacktestResult:
    instrument = load_instrument(MARKETS / "binance-usdm.json", "XRP/USDT:USDT")
    config = BacktestConfig(size=Decimal(1000), instrument=instrument, funding=funding)
    candles = read_candles(real_data_dir / name)
    return run_backtest(candles, create_strategy("ema_cross", params), config)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_round_trip_pnl_adds_up_to_the_equity_with_funding(
    real_data_dir: Path, funding: Funding, name: str, params: dict[str, int]
) -> None:
    result = _run(real_data_dir, name, params, funding)
    trips = list(result.round_trips)
    assert result.funding_payments > 0
    assert any(trip.funding != 0 for trip in trips)
    # every payment settled while a position was held, so each lands in one round trip
    assert sum((trip.funding for trip in trips), Decimal(0)) == -result.funding_paid
    total = sum((trip.pnl for trip in trips), Decimal(0))
    assert total == result.final_equity - result.initial_cash
    # the statistics (profit factor, win rate) read the same net PnL, without the objects
    assert isinstance(result.round_trips, RoundTrips)
    assert result.round_trips.closed_pnls == [float(t.pnl) for t in trips if not t.is_open]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_funding_changes_each_trip_by_its_funding_only(
    real_data_dir: Path, funding: Funding, name: str, params: dict[str, int]
) -> None:
    funded = list(_run(real_data_dir, name, params, funding).round_trips)
    plain = list(_run(real_data_dir, name, params, None).round_trips)
    assert [trip.funding for trip in plain] == [0] * len(plain)
    assert [trip.pnl for trip in plain] == [trip.pnl - trip.funding for trip in funded]
    assert [trip.fees for trip in plain] == [trip.fees for trip in funded]


def test_the_report_shows_funding_per_trade_only_for_a_funded_run(
    real_data_dir: Path, funding: Funding, tmp_path: Path
) -> None:
    from aegis.backtest import write_report

    name, params = CASES[0]
    funded = _run(real_data_dir, name, params, funding)
    page = write_report(funded, tmp_path / "funded.html").read_text(encoding="utf-8")
    assert "<th>Funding</th><th>PnL</th>" in page
    table = page[page.index('<table class="trades">') :]
    rows = re.findall(r"<tr>((?:<td>[^<]*</td>){10})</tr>", table)
    assert len(rows) == len(funded.round_trips)
    shown = [Decimal(re.findall(r"<td>([^<]*)</td>", row)[8]) for row in rows]
    for cell, trip in zip(shown, funded.round_trips, strict=True):
        assert cell == pytest.approx(trip.funding, rel=Decimal("1e-7"), abs=Decimal("1e-12"))
    assert "net of fees and of the funding settled while each was open" in page
    plain = _run(real_data_dir, name, params, None)
    page = write_report(plain, tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "<th>Funding</th>" not in page
    assert "<th>Fees</th><th>PnL</th>" in page
