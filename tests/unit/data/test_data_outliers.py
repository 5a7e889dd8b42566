"""Outlier filter (EX5): bool contract, configurable threshold, rejection counter and log."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import structlog

from aegis.data import OutlierFilter, read_candles
from aegis.model.candle import Candle


def _candle(close: float, *, high: float | None = None, low: float | None = None) -> Candle:
    return Candle(
        0, close, high if high is not None else close, low if low is not None else close, close, 1.0
    )


def test_default_threshold_accepts_a_real_flash_crash(real_data_dir: Path) -> None:
    candles = read_candles(real_data_dir / "binance-usdm_XRP-USDT-PERP_8h.csv.gz")
    spike_filter = OutlierFilter()
    previous: float | None = None
    for candle in candles.rows():
        assert spike_filter.accept(previous, candle), candle
        previous = candle.close
    assert spike_filter.rejections == 0


def test_a_real_20_percent_move_is_rejected_only_with_a_tight_threshold(
    real_data_dir: Path,
) -> None:
    candles = read_candles(real_data_dir / "binance-usdm_XRP-USDT-PERP_8h.csv.gz")
    spike_filter = OutlierFilter(threshold=0.15)
    accepted = [
        spike_filter.accept(None if i == 0 else float(candles.close[i - 1]), c)
        for i, c in enumerate(candles.rows())
    ]
    assert accepted.count(False) == 1
    assert spike_filter.rejections == 1


def test_jump_above_threshold_is_rejected_counted_and_logged() -> None:
    spike_filter = OutlierFilter(threshold=0.25)
    with structlog.testing.capture_logs() as logs:
        assert spike_filter.accept(100.0, _candle(124.9))
        assert spike_filter.accept(100.0, _candle(75.1))
        assert not spike_filter.accept(100.0, _candle(126.0))
        assert not spike_filter.accept(100.0, _candle(74.0))
    assert spike_filter.rejections == 2
    assert [entry["event"] for entry in logs] == ["candle_rejected", "candle_rejected"]
    assert logs[0]["reason"] == "close_jump"
    assert logs[0]["close"] == 126.0
    assert logs[0]["previous_close"] == 100.0


def test_first_candle_is_judged_on_its_own() -> None:
    spike_filter = OutlierFilter()
    assert spike_filter.accept(None, _candle(5.0, high=6.0, low=4.0))
    assert not spike_filter.accept(None, _candle(5.0, high=4.0, low=4.0))
    assert not spike_filter.accept(None, _candle(math.nan))
    assert not spike_filter.accept(None, _candle(0.0))
    assert spike_filter.rejections == 3


@pytest.mark.parametrize("threshold", [0.0, -0.1, math.nan, math.inf])
def test_threshold_is_validated(threshold: float) -> None:
    with pytest.raises(ValueError, match="outlier threshold must be a positive finite fraction"):
        OutlierFilter(threshold)


def test_bad_previous_close_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match=r"previous_close must be a positive price, got 0\.0"):
        OutlierFilter().accept(0.0, _candle(1.0))
