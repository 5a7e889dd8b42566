"""`aegis run` as a user runs it: a stepped replay against the in-process emulator."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)
REPO = Path(__file__).resolve().parents[2]
XRP = REPO / "src" / "aegis" / "resources" / "data" / "binance-usdm_XRP-USDT-PERP_5m.csv.gz"


def aegis(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEGIS_")}
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [str(Path(sys.executable).parent / "aegis"), *args],
        capture_output=True, text=True, timeout=150, cwd=cwd, env=env, check=False,
    )  # fmt: skip


@pytest.fixture
def slice_file(tmp_path: Path) -> Path:
    with gzip.open(XRP, "rt") as stream:
        lines = stream.read().splitlines()
    target = tmp_path / "binance-usdm_XRP-USDT-PERP_5m.csv"
    target.write_text("\n".join(lines[:201]) + "\n", encoding="utf-8")
    return target


def test_run_speed_max_json_prints_the_backtest_summary_keys(
    slice_file: Path, tmp_path: Path
) -> None:
    common = ["--strategy", "ema_cross", "--param", "fast=5", "--param", "slow=20",
              "--size", "10", "--fee-bps", "5", "--json"]  # fmt: skip
    run = aegis("run", "--mode", "paper", "--exchange", "emulator", "--data", str(slice_file),
                "--speed", "max", "--port", "0", "--data-dir", str(tmp_path / "d"), *common,
                cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    backtest = aegis("backtest", "--data", str(slice_file), "--cash", "10000", *common,
                     cwd=tmp_path)  # fmt: skip
    assert backtest.returncode == 0, backtest.stderr
    run_summary, backtest_summary = json.loads(run.stdout), json.loads(backtest.stdout)
    assert set(backtest_summary) <= set(run_summary)
    for key in ("candles", "trades", "round_trips", "final_equity", "fees_paid"):
        assert run_summary[key] == backtest_summary[key], key
    assert run_summary["run"]["stop_reason"] == "end of data"
    assert (tmp_path / "d" / "logs" / "aegis.log").is_file()


def test_invalid_setting_exits_2_naming_it_without_traceback(tmp_path: Path) -> None:
    result = aegis("run", "--mode", "paper", "--timeframe", "5m", "--symbols", "XRPUSDT",
                   "--data-dir", str(tmp_path / "d"), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert "market.symbols" in result.stderr
    assert "Traceback" not in result.stderr
