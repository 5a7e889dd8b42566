"""The live bench's math: percentiles, order-to-candle matching, missed candles, /proc CPU."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from benchmarks._live_stats import match_orders, missed_candles, percentile, process_cpu_seconds


def test_percentile_uses_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="101"):
        percentile(values, 101)


def test_order_is_matched_to_latest_earlier_kline_of_its_symbol() -> None:
    publishes = {"A": [1.0, 2.0], "B": [1.5]}
    matched = match_orders(publishes, [("A", 1.002), ("B", 1.6), ("A", 2.01), ("C", 3.0)])
    assert matched.latencies_s == pytest.approx([0.002, 0.1, 0.01])
    assert matched.unmatched == 1
    assert matched.ambiguous == 0


def test_second_order_on_one_candle_is_ambiguous() -> None:
    matched = match_orders({"A": [1.0]}, [("A", 1.1), ("A", 1.2)])
    assert matched.ambiguous == 1


def test_missed_candles_counts_published_opens_never_processed() -> None:
    assert missed_candles({"A": [0, 60, 120], "B": [0]}, {"A": [0, 120], "B": [0]}) == {"A": 1}


def test_process_cpu_seconds_reads_utime_and_stime(tmp_path: Path) -> None:
    stat = tmp_path / "42" / "stat"
    stat.parent.mkdir()
    fields = ["S"] + ["0"] * 10 + ["250", "50"] + ["0"] * 30
    stat.write_text("42 (a (b) c) " + " ".join(fields) + "\n")
    expected = 300 / os.sysconf("SC_CLK_TCK")
    assert process_cpu_seconds(42, proc=tmp_path) == pytest.approx(expected)
