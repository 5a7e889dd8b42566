"""`aegis data check` and `aegis data import` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aegis.cli.app import app
from aegis.data import read_candles

REPO_ROOT = Path(__file__).resolve().parents[2]
AEGIS = REPO_ROOT / ".venv" / "bin" / "aegis"
runner = CliRunner()


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_check_clean_file_exits_0_and_prints_a_table(real_data_dir: Path) -> None:
    result = runner.invoke(app, ["data", "check", str(real_data_dir / "bittrex_ETH-BTC_5m.csv.gz")])
    assert result.exit_code == 0, result.output
    assert "5760" in result.output
    assert "clean" in result.output


def test_check_json_reports_gaps_and_exits_1(real_data_dir: Path) -> None:
    files = [real_data_dir / n for n in ("bittrex_ADA-BTC_5m.csv.gz", "kraken_XBT-USDT_1m.csv.gz")]
    result = runner.invoke(app, ["data", "check", "--json", *map(str, files)])
    assert result.exit_code == 1, result.output
    ada, kraken = _json_lines(result.stdout)
    for key in (
        "file",
        "rows",
        "missing",
        "gaps",
        "duplicates",
        "out_of_order",
        "zero_volume",
        "outliers",
    ):
        assert key in ada
    assert ada["file"] == str(files[0])
    assert ada["missing"] == 40
    assert {"after_ms": 1516017300000, "missing": 33} in ada["gaps"]  # type: ignore[operator]
    assert kraken["zero_volume"] == 216


def test_check_reports_duplicates_and_out_of_order_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "messy.csv"
    path.write_text(
        "timestamp_ms,open,high,low,close,volume\n"
        "120000,1,1,1,1,1\n60000,1,1,1,1,1\n60000,1,1,1,1,1\n180000,1,1,1,1,1\n"
    )
    result = runner.invoke(app, ["data", "check", "--json", "--timeframe", "1m", str(path)])
    assert result.exit_code == 1, result.output
    (report,) = _json_lines(result.stdout)
    assert report["duplicates"] == 1
    assert report["out_of_order"] == 1
    assert report["timeframe"] == "1m"
    assert "messy.csv: line 3: timestamp 60000 goes backwards" in str(report["first_error"])


def test_check_unreadable_file_exits_2_and_still_reports_the_others(
    real_data_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp_ms,open,high,low,close,volume\n60000,1,one,1,1,1\n")
    good = real_data_dir / "bittrex_ETH-BTC_5m.csv.gz"
    result = runner.invoke(app, ["data", "check", "--json", str(bad), str(good)])
    assert result.exit_code == 2
    error, report = _json_lines(result.stdout)
    assert error["file"] == str(bad)
    assert "line 2: high 'one' is not a number" in str(error["error"])
    assert report["rows"] == 5760
    assert "bad.csv: line 2: high 'one' is not a number" in result.stderr.replace("\n", "")


def test_check_rejects_a_bad_timeframe(real_data_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["data", "check", "--timeframe", "5x", str(real_data_dir / "bittrex_ETH-BTC_5m.csv.gz")],
    )
    assert result.exit_code == 2
    assert "invalid timeframe '5x'" in result.output


@pytest.mark.skipif(not AEGIS.exists(), reason="console script not installed in .venv")
def test_installed_command_exit_codes(real_data_dir: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - fixed executable, arguments from the test
            [str(AEGIS), "data", "check", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    assert run(str(real_data_dir / "bittrex_LTC-BTC_5m.csv.gz")).returncode == 0
    found = run("--json", str(real_data_dir / "binance_ADA-BTC_1m.csv.gz"))
    assert found.returncode == 1
    assert json.loads(found.stdout)["missing"] == 1430
    missing = run(str(tmp_path / "absent.csv"))
    assert missing.returncode == 2
    assert "absent.csv: file not found" in missing.stderr


def test_import_writes_parquet_and_refuses_to_overwrite_a_different_file(
    real_data_dir: Path, tmp_path: Path
) -> None:
    source = real_data_dir / "bittrex_ETH-BTC_5m.csv.gz"
    target_dir = tmp_path / "store"
    first = runner.invoke(app, ["data", "import", str(source), "--to", str(target_dir)])
    assert first.exit_code == 0, first.output
    target = target_dir / "bittrex_ETH-BTC_5m.parquet"
    assert "written" in first.output
    assert str(target) in first.output.replace("\n", "")
    stored = read_candles(target)
    assert len(stored) == 5760
    assert stored.symbol == "ETH/BTC"

    again = runner.invoke(app, ["data", "import", "--json", str(source), "--to", str(target_dir)])
    assert again.exit_code == 0
    assert _json_lines(again.stdout)[0]["status"] == "unchanged"

    other = tmp_path / "bittrex_ETH-BTC_5m.csv"
    other.write_text("timestamp_ms,open,high,low,close,volume\n0,1,1,1,1,1\n")
    refused = runner.invoke(app, ["data", "import", "--json", str(other), "--to", str(target_dir)])
    assert refused.exit_code == 1
    assert _json_lines(refused.stdout)[0]["status"] == "refused"
    assert len(read_candles(target)) == 5760

    forced = runner.invoke(app, ["data", "import", "--force", str(other), "--to", str(target_dir)])
    assert forced.exit_code == 0, forced.output
    assert len(read_candles(target)) == 1


def test_import_invalid_source_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "dup.csv"
    bad.write_text("timestamp_ms,open,high,low,close,volume\n0,1,1,1,1,1\n0,1,1,1,1,1\n")
    result = runner.invoke(
        app, ["data", "import", "--symbol", "BTC/USDT", str(bad), "--to", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "dup.csv: line 3: duplicate timestamp 0" in result.stderr.replace("\n", "")
    assert not (tmp_path / "out" / "dup.parquet").exists()


def test_data_command_module_imports_cheaply() -> None:
    code = (
        "import sys, aegis.cli.data_cmd; "
        "print(','.join(m for m in ('numpy', 'pyarrow', 'rich.table') if m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
