"""`aegis backtest --config FILE`: the bot's risk limits, sizing and strategy from its settings
file, validated as `aegis run` validates it; explicit flags override the file."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aegis.backtest import BacktestConfig, run_backtest
from aegis.cli.app import app
from aegis.config import RiskLimitSettings
from aegis.data import read_candles
from aegis.strategies import create_strategy

DATA = "unknown_BTC-USDT_5m.csv.gz"  # 10,999 real candles: ema_cross 12/26 makes 200 trades
# the statistics that differ between runs that trade differently (engine_seconds never equal)
COMPARED = (
    "strategy", "params", "candles", "trades", "round_trips", "initial_cash", "final_equity",
    "fees_paid", "profit_factor", "warnings",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AEGIS_ variable of the machine leaks into the settings."""
    for name in list(os.environ):
        if name.startswith("AEGIS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def data(real_data_dir: Path) -> Path:
    return real_data_dir / DATA


def _toml(tmp_path: Path, body: str, name: str = "bot.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["backtest", *args])


def _json(*args: str) -> dict[str, Any]:
    result = _invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return {key: summary[key] for key in COMPARED}


EMA = ("--strategy", "ema_cross", "--param", "fast=12", "--param", "slow=26")
COOLDOWN = "[risk]\ncooldown_losses = 1\ncooldown_s = 86400\n"


def test_a_risk_limit_of_the_file_binds_and_changes_the_result(data: Path, tmp_path: Path) -> None:
    bot = _toml(tmp_path, COOLDOWN)
    default = _json("--data", str(data), *EMA, "--size", "0.001")
    limited = _json("--data", str(data), *EMA, "--size", "0.001", "--config", str(bot))
    # a day's pause after each losing round trip: far fewer trades than the default limits
    assert 0 < limited["trades"] < default["trades"] == 200
    assert limited["final_equity"] != default["final_equity"]
    assert any("risk cooldown" in warning for warning in limited["warnings"])
    assert not any("risk" in warning for warning in default["warnings"])
    # the same limits as the library's BacktestConfig(risk=...) with that section
    section = RiskLimitSettings(cooldown_losses=1, cooldown_s=86_400)
    config = BacktestConfig(size=Decimal("0.001"), risk=section)
    strategy = create_strategy("ema_cross", {"fast": 12, "slow": 26})
    result = run_backtest(read_candles(data), strategy, config)
    assert result.entry_fills == limited["trades"]
    assert float(result.final_equity) == limited["final_equity"]


BOT = """
[strategy]
name = "ema_cross"
params = { fast = 8, slow = 30 }

[sizing]
quantity = "0.002"
cash = "50000"
fee_bps = "5"
"""


def test_strategy_params_and_sizing_come_from_the_file(data: Path, tmp_path: Path) -> None:
    bot = _toml(tmp_path, BOT)
    from_file = _json("--data", str(data), "--config", str(bot))  # no --strategy needed
    by_flags = _json(
        "--data", str(data), "--strategy", "ema_cross", "--param", "fast=8", "--param",
        "slow=30", "--size", "0.002", "--cash", "50000", "--fee-bps", "5",
    )  # fmt: skip
    assert from_file == by_flags
    assert from_file["params"] == {"fast": 8, "slow": 30}
    assert from_file["initial_cash"] == 50_000.0


def test_flags_override_the_file(data: Path, tmp_path: Path) -> None:
    bot = _toml(tmp_path, BOT)
    overridden = _json(
        "--data", str(data), "--config", str(bot), "--param", "fast=12", "--cash", "20000",
        "--fraction", "0.1", "--fee-bps", "10",
    )  # fmt: skip
    # --param overrides its key only; --fraction replaces the file's quantity
    by_flags = _json(
        "--data", str(data), "--strategy", "ema_cross", "--param", "fast=12", "--param",
        "slow=30", "--fraction", "0.1", "--cash", "20000", "--fee-bps", "10",
    )  # fmt: skip
    assert overridden == by_flags
    assert overridden["params"] == {"fast": 12, "slow": 30}


def test_another_strategy_on_the_command_line_leaves_the_files_params(
    data: Path, tmp_path: Path
) -> None:
    bot = _toml(tmp_path, BOT)
    other = _json("--data", str(data), "--config", str(bot), "--strategy", "momentum")
    assert other["strategy"] == "momentum"
    assert "fast" not in other["params"]  # the file's params were written for ema_cross
    assert other["initial_cash"] == 50_000.0  # the file's sizing still applies


def test_a_setting_the_file_leaves_out_keeps_the_backtest_default(
    data: Path, tmp_path: Path
) -> None:
    bot = _toml(tmp_path, '[strategy]\nname = "ema_cross"\n')
    summary = _json("--data", str(data), "--config", str(bot), "--size", "0.001")
    # not the 10,000 paper cash `aegis run` defaults to, nor another fee
    assert summary == _json("--data", str(data), *EMA, "--size", "0.001")


def test_the_environment_applies_with_the_file_as_in_aegis_run(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = _toml(tmp_path, COOLDOWN)
    from_file = _json("--data", str(data), *EMA, "--size", "0.001", "--config", str(bot))
    empty = _toml(tmp_path, "", name="empty.toml")
    monkeypatch.setenv("AEGIS_RISK__COOLDOWN_LOSSES", "1")
    monkeypatch.setenv("AEGIS_RISK__COOLDOWN_S", "86400")
    from_env = _json("--data", str(data), *EMA, "--size", "0.001", "--config", str(empty))
    assert from_env == from_file
    # without --config no settings are read: the backtest is as it always was
    assert _json("--data", str(data), *EMA, "--size", "0.001")["trades"] == 200


def _error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("[risk]\nmax_drawdwn = '0.1'\n", ["setting risk.max_drawdwn", "Extra inputs"]),
        ("[risk\nmax_drawdown = '0.1'\n", ["TOML", "line 1"]),
        ("[risk]\nmax_drawdown = 'abc'\n", ["max_drawdown", "'abc'"]),
        ("[risk]\nmax_open_positions = 0\n", ["setting risk.max_open_positions = 0"]),
        ("[sizing]\nquantity = '-1'\n", ["setting sizing.quantity = '-1'", "positive"]),
        ("[sizing]\ncash = 'lots'\n", ["setting sizing.cash = 'lots'", "not a number"]),
        ("[sizing]\nfraction = 2\n", ["setting sizing.fraction = 2"]),
        ("[sizing]\nquantity = '1'\nfraction = 0.1\n", ["sizing.quantity and sizing.fraction"]),
        ("[strategy]\nname = 'no_such'\n", ["strategy no_such", "unknown strategy"]),
        ("[strategy]\nparams = { fast = 'abc' }\n", ["strategy ema_cross", "fast='abc'"]),
        ("[strategy]\nname = 'ema_cross'\nparams = { fst = 3 }\n", ["unknown parameter(s) fst"]),
        ("[stratgy]\nname = 'ema_cross'\n", ["setting stratgy"]),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_the_setting(
    data: Path, tmp_path: Path, body: str, names: list[str]
) -> None:
    bot = _toml(tmp_path, body)
    flags = ["--strategy", "ema_cross"] if "name = " not in body else []
    line = _error(_invoke("--data", str(data), *flags, "--config", str(bot)))
    assert line.startswith("error: "), line
    assert str(bot) in line  # `--config FILE: ...`, or `config file FILE ...` as `aegis run` says
    for name in names:
        assert name in line, line


def test_a_missing_file_is_named(data: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    line = _error(_invoke("--data", str(data), *EMA, "--config", str(missing)))
    assert line == f"error: config file {missing} does not exist"  # as `aegis run` says it


def test_a_file_that_is_not_utf8_is_named(data: Path, tmp_path: Path) -> None:
    bot = tmp_path / "latin.toml"
    bot.write_bytes(b"\xff\xfe[risk]\n")
    line = _error(_invoke("--data", str(data), *EMA, "--config", str(bot)))
    assert line.startswith(f"error: config file {bot} is not UTF-8 text: "), line


def test_a_strategy_missing_from_both_the_flags_and_the_file_is_an_error(
    data: Path, tmp_path: Path
) -> None:
    line = _error(_invoke("--data", str(data), "--size", "0.001"))
    assert "--strategy is required" in line
    bot = _toml(tmp_path, "[sizing]\ncash = '5000'\n")
    line = _error(_invoke("--data", str(data), "--config", str(bot)))
    assert line == f"error: --config {bot} sets no strategy.name: give --strategy NAME"


def test_a_bad_flag_is_named_as_the_flag_not_the_file(data: Path, tmp_path: Path) -> None:
    bot = _toml(tmp_path, BOT)
    line = _error(_invoke("--data", str(data), "--config", str(bot), "--cash", "-5"))
    assert "--config" not in line
    assert "cash must be positive, got -5" in line
