"""Ring buffer per symbol: order check, eviction, public views (EX7)."""

from __future__ import annotations

import numpy as np
import pytest

from aegis.data import CandleRingBuffer, Candles, RingBuffers
from aegis.model.candle import Candle
from aegis.model.errors import DataError


def _candle(i: int, close: float | None = None) -> Candle:
    price = float(i) if close is None else close
    return Candle(i * 60_000, price, price + 1, price - 0.5, price, 10.0 + i)


def test_empty_buffer() -> None:
    buffer = CandleRingBuffer(3)
    assert len(buffer) == 0
    assert buffer.latest is None
    assert not buffer.is_full
    assert len(buffer.last()) == 0
    assert buffer.closes(5).shape == (0,)


def test_append_evicts_oldest_and_views_are_chronological() -> None:
    buffer = CandleRingBuffer(3, symbol="BTC/USDT", timeframe_ms=60_000)
    for i in range(1, 6):
        buffer.append(_candle(i))
    assert len(buffer) == 3
    assert buffer.is_full
    assert buffer.latest == _candle(5)
    assert buffer.closes().tolist() == [3.0, 4.0, 5.0]
    assert buffer.closes(2).tolist() == [4.0, 5.0]
    assert buffer.closes(10).tolist() == [3.0, 4.0, 5.0]
    last = buffer.last(2)
    assert isinstance(last, Candles)
    assert last.symbol == "BTC/USDT"
    assert last.timeframe_ms == 60_000
    assert last.ts_ms.tolist() == [240_000, 300_000]
    assert last.row(0) == _candle(4)
    assert list(buffer) == [_candle(3), _candle(4), _candle(5)]


def test_returned_arrays_are_copies() -> None:
    buffer = CandleRingBuffer(2)
    buffer.append(_candle(1))
    closes = buffer.closes()
    closes[0] = 99.0
    assert buffer.closes().tolist() == [1.0]


def test_append_rejects_timestamps_that_do_not_increase() -> None:
    buffer = CandleRingBuffer(3, symbol="ETH/BTC")
    buffer.append(_candle(2))
    with pytest.raises(DataError, match="ts_ms 120000 is not after the latest 120000"):
        buffer.append(_candle(2))
    with pytest.raises(DataError, match="ts_ms 60000 is not after"):
        buffer.append(_candle(1))
    assert len(buffer) == 1


def test_replace_latest_updates_the_open_candle_only() -> None:
    buffer = CandleRingBuffer(2)
    with pytest.raises(DataError, match="cannot replace"):
        buffer.replace_latest(_candle(1))
    buffer.append(_candle(1))
    buffer.replace_latest(_candle(1, close=1.25))
    assert buffer.closes().tolist() == [1.25]
    with pytest.raises(DataError, match="cannot replace latest candle 60000 with ts_ms 120000"):
        buffer.replace_latest(_candle(2))


def test_clear_and_extend() -> None:
    buffer = CandleRingBuffer(3)
    history = Candles.from_rows([_candle(i) for i in range(1, 11)])
    buffer.extend(history)
    assert buffer.closes().tolist() == [8.0, 9.0, 10.0]
    buffer.clear()
    assert len(buffer) == 0
    buffer.append(_candle(1))
    assert buffer.latest == _candle(1)


def test_large_timestamps_survive_exactly() -> None:
    buffer = CandleRingBuffer(2)
    candle = Candle(1_762_820_220_123, 1.0, 1.0, 1.0, 1.0, float("nan"))
    buffer.append(candle)
    assert buffer.last().ts_ms.tolist() == [1_762_820_220_123]
    assert np.isnan(buffer.last().volume[0])


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity must be positive, got 0"):
        CandleRingBuffer(0)
    with pytest.raises(ValueError, match="capacity must be positive"):
        RingBuffers(-1)


def test_ring_buffers_hold_one_buffer_per_symbol() -> None:
    buffers = RingBuffers(2, timeframe_ms=60_000)
    buffers.append("BTC/USDT", _candle(1))
    buffers.append("ETH/USDT", _candle(1))
    buffers.append("BTC/USDT", _candle(2))
    assert buffers.symbols == ["BTC/USDT", "ETH/USDT"]
    assert len(buffers) == 2
    assert "BTC/USDT" in buffers
    assert "XRP/USDT" not in buffers
    assert buffers["BTC/USDT"].closes().tolist() == [1.0, 2.0]
    assert buffers["ETH/USDT"].timeframe_ms == 60_000
    with pytest.raises(KeyError, match="XRP/USDT"):
        buffers["XRP/USDT"]
    assert buffers.buffer("XRP/USDT").capacity == 2
