"""`aegis backtest` end to end, as a user runs it (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

AEGIS = str(Path(sys.executable).with_name("aegis"))
BUNDLED = Path(__file__).resolve().parents[2] / "src" / "aegis" / "resources" / "data"
DATA = BUNDLED / "kraken_XBT-USDT_1m.csv.gz"
KEYS = {
    "candles", "trades", "round_trips", "final_equity", "total_return", "sharpe", "sortino",
    "max_drawdown", "profit_factor", "exposure", "fees_paid", "engine_seconds", "warnings",
    "null_reasons",
}  # fmt: skip
EMA = ["--strategy", "ema_cross", "--param", "fast=12", "--param", "slow=26"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script, arguments from the test
        [AEGIS, "backtest", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_json_output_has_every_key() -> None:
    done = _run("--data", str(DATA), *EMA, "--size", "0.001", "--fee-bps", "10", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data.keys() >= KEYS
    assert data["candles"] == 721
    assert data["trades"] > 0
    assert any("permissive instrument" in warning for warning in data["warnings"])
    assert isinstance(data["final_equity"], float)


def test_summary_table_and_report(tmp_path: Path) -> None:
    report = tmp_path / "out.html"
    done = _run("--data", str(DATA), *EMA, "--fraction", "0.5", "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert "final equity" in done.stdout
    assert str(report) in done.stdout.replace("\n", "")
    assert report.stat().st_size > 10_000
    assert "<html" in report.read_text(encoding="utf-8")[:500].lower()


def test_resampling_to_a_coarser_timeframe() -> None:
    base = _run("--data", str(DATA), *EMA, "--size", "0.001", "--json")
    coarse = _run("--data", str(DATA), *EMA, "--size", "0.001", "--timeframe", "5m", "--json")
    assert coarse.returncode == 0, coarse.stderr
    assert json.loads(coarse.stdout)["candles"] < json.loads(base.stdout)["candles"] / 4


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--data", str(DATA), *EMA, "--size", "1", "--fraction", "0.1"], "--size"),
        (["--data", "/nonexistent/file.csv", *EMA], "/nonexistent/file.csv"),
        (["--data", str(DATA), "--strategy", "no_such_strategy"], "no_such_strategy"),
        (["--data", str(DATA), "--strategy", "ema_cross", "--param", "fast=abc"], "fast"),
        (["--data", str(DATA), *EMA, "--param", "oops"], "oops"),
        (["--data", str(DATA), *EMA, "--cash", "lots"], "--cash"),
        (["--data", str(DATA), *EMA, "--timeframe", "1s"], "--timeframe"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_code_2(args: list[str], names: str) -> None:
    done = _run(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert names in lines[0], done.stderr


def test_bad_file_content_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp_ms,open,high,low,close,volume\n1,2,3,1,x,5\n", encoding="utf-8")
    done = _run("--data", str(bad), *EMA)
    assert done.returncode == 2
    assert str(bad) in done.stderr
    assert "Traceback" not in done.stderr


MARKETS = BUNDLED.parent / "markets"
XRP_PERP = BUNDLED / "binance-usdm_XRP-USDT-PERP_5m.csv.gz"
XRP_FUNDING = BUNDLED / "binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz"
USDM = MARKETS / "binance-usdm.json"


def test_real_filters_and_funding_on_the_xrp_perpetual() -> None:
    inputs = ["--instrument", str(USDM), "--funding", str(XRP_FUNDING)]
    done = _run("--data", str(XRP_PERP), *EMA, "--size", "1000", *inputs, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data.keys() >= KEYS | {"funding_paid"}
    assert data["symbol"] == "XRP/USDT:USDT"
    assert data["trades"] > 0
    # the run holds longs across some of the 12 funding times, nearly all at +0.01 %: it pays
    assert data["funding_paid"] > 0
    assert not any("permissive" in warning for warning in data["warnings"])
    assert any("funding series starts" in warning for warning in data["warnings"])
    # 1 XRP (~1.2 USDT) is below the 5 USDT minimum notional: every entry is refused, with why
    small = _run("--data", str(XRP_PERP), *EMA, "--size", "1", *inputs, "--json")
    assert small.returncode == 0, small.stderr
    refused = json.loads(small.stdout)
    assert refused["trades"] == 0
    assert refused["funding_paid"] == 0.0
    assert any("below min_notional 5" in warning for warning in refused["warnings"])
    table = _run("--data", str(XRP_PERP), *EMA, "--size", "1000", *inputs)
    assert table.returncode == 0, table.stderr
    assert "funding paid" in table.stdout


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (
            ["--instrument", str(MARKETS / "binance-spot.json")],
            ["binance-spot.json", "XRP/USDT:USDT"],
        ),
        (["--instrument", "/nonexistent/markets.json"], ["/nonexistent/markets.json"]),
        (["--symbol", "XRP/USDT", "--funding", str(XRP_FUNDING)], ["--funding", "XRP/USDT"]),
    ],
)
def test_bad_instrument_or_funding_is_one_clear_line(args: list[str], names: list[str]) -> None:
    done = _run("--data", str(XRP_PERP), *EMA, *args)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for name in names:
        assert name in lines[0], done.stderr
