"""The `aegis run` summary table: formatted like `aegis backtest`, while --json stays exact."""

from __future__ import annotations

import copy
import json
from typing import Any

from rich.console import Console

from aegis.cli.run_summary import format_statistic, summary_rows
from aegis.cli.run_view import print_summary

TOTAL_RETURN = -0.0008810745209999471
FINAL_EQUITY = 9991.18925479


def _summary() -> dict[str, Any]:
    return {
        "strategy": "ema_cross", "symbol": "XRP/USDT:USDT", "candles": 12345, "trades": 3,
        "round_trips": 2, "initial_cash": 10000.0, "final_equity": FINAL_EQUITY,
        "total_return": TOTAL_RETURN, "max_drawdown": 0.0123456789, "fees_paid": 1.23456789,
        "sharpe": None, "warnings": [],
        "run": {"stop_reason": "signal SIGTERM", "open_orders_left": [],
                "log_file": "/tmp/d/logs/aegis.log"},
    }  # fmt: skip


def _render(summary: dict[str, Any]) -> str:
    console = Console(record=True, width=100, color_system=None)
    print_summary(console, summary)
    return console.export_text()


def test_table_shows_percentages_and_money_like_the_backtest_table() -> None:
    text = _render(_summary())
    assert "-0.0881%" in text  # total return
    assert "1.2346%" in text  # max drawdown
    assert "9,991.1893" in text  # final equity
    assert "10,000.0000" in text  # initial cash
    assert "12,345" in text  # candles
    assert "1.2346" in text  # fees
    assert str(TOTAL_RETURN) not in text
    assert str(FINAL_EQUITY) not in text


def test_rows_name_the_run_outcome() -> None:
    rows = dict(summary_rows(_summary()))
    assert rows["total return"] == "-0.0881%"
    assert rows["final equity"] == "9,991.1893"
    assert rows["open orders left"] == "0"
    assert rows["stopped"] == "signal SIGTERM"


def test_missing_statistic_is_n_a_not_zero() -> None:
    assert format_statistic("total_return", None) == "n/a"
    assert format_statistic("fees_paid", 0.0) == "0.0000"


def test_rendering_leaves_the_json_numbers_exact() -> None:
    summary = _summary()
    before = copy.deepcopy(summary)
    _render(summary)
    assert summary == before
    dumped = json.loads(json.dumps(summary))
    assert dumped["total_return"] == TOTAL_RETURN
    assert dumped["final_equity"] == FINAL_EQUITY
