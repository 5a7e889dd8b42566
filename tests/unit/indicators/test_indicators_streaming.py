"""Streaming and vectorised forms agree bar for bar; streaming state survives a JSON round trip."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aegis.indicators as ind

from ._support import FloatArray, Ohlcv, assert_agree


@dataclass(frozen=True)
class Case:
    """One indicator: its vectorised call, a streaming factory and the inputs update() takes."""

    vectorised: Callable[[Ohlcv], Any]
    streaming: Callable[[], Any]
    inputs: tuple[str, ...]


HLC = ("high", "low", "close")
CASES: dict[str, Case] = {
    "sma": Case(lambda d: ind.sma(d["close"], 20), lambda: ind.StreamingSma(20), ("close",)),
    "ema": Case(lambda d: ind.ema(d["close"], 12), lambda: ind.StreamingEma(12), ("close",)),
    "rsi": Case(lambda d: ind.rsi(d["close"], 14), lambda: ind.StreamingRsi(14), ("close",)),
    "atr": Case(lambda d: ind.atr(d["high"], d["low"], d["close"], 14), ind.StreamingAtr, HLC),
    "adx": Case(
        lambda d: ind.adx(d["high"], d["low"], d["close"], 7), lambda: ind.StreamingAdx(7), HLC
    ),
    "bollinger": Case(
        lambda d: ind.bollinger(d["close"], 20, 2.0),
        lambda: ind.StreamingBollinger(20, 2.0),
        ("close",),
    ),
    "keltner": Case(
        lambda d: ind.keltner(d["high"], d["low"], d["close"], 20, 10, 1.5),
        lambda: ind.StreamingKeltner(20, 10, 1.5),
        HLC,
    ),
    "macd": Case(lambda d: ind.macd(d["close"], 12, 26, 9), ind.StreamingMacd, ("close",)),
    "stochastic": Case(
        lambda d: ind.stochastic(d["high"], d["low"], d["close"], 14, 3, 3),
        lambda: ind.StreamingStochastic(14, 3, 3),
        HLC,
    ),
    "vwap": Case(
        lambda d: ind.vwap(d["high"], d["low"], d["close"], d["volume"]),
        ind.StreamingVwap,
        ("high", "low", "close", "volume"),
    ),
    "vwap_daily": Case(
        lambda d: ind.vwap(
            d["high"], d["low"], d["close"], d["volume"], d["timestamp_ms"], anchor_ms=86_400_000
        ),
        lambda: ind.StreamingVwap(anchor_ms=86_400_000),
        ("high", "low", "close", "volume", "timestamp_ms"),
    ),
}


def as_outputs(result: Any) -> list[FloatArray]:
    return list(result) if isinstance(result, tuple) else [result]


def run_streaming(indicator: Any, data: Ohlcv, inputs: Sequence[str]) -> list[FloatArray]:
    columns = [data[name].tolist() for name in inputs]
    if inputs[-1] == "timestamp_ms":
        columns[-1] = [int(stamp) for stamp in columns[-1]]
    rows = [indicator.update(*bar) for bar in zip(*columns, strict=True)]
    width = len(indicator.value) if isinstance(indicator.value, tuple) else 1
    if not rows:
        return [np.empty(0) for _ in range(width)]
    table = np.array([row if isinstance(row, tuple) else (row,) for row in rows], dtype=float)
    return [table[:, index] for index in range(table.shape[1])]


def scale_for(name: str, data: Ohlcv) -> FloatArray | float:
    # MACD is a difference of price-level EMAs (about 0 at every crossing): measure its error
    # against the price level, as for every other price-valued output.
    return np.abs(data["close"]) if name == "macd" else 0.0


def check_case(name: str, data: Ohlcv) -> int:
    case = CASES[name]
    expected = as_outputs(case.vectorised(data))
    actual = run_streaming(case.streaming(), data, case.inputs)
    compared = 0
    for index, (mine, reference) in enumerate(zip(actual, expected, strict=True)):
        compared += assert_agree(
            mine, reference, scale=scale_for(name, data), label=f"{name}[{index}]"
        )
    return compared


@pytest.mark.parametrize("name", sorted(CASES))
def test_streaming_matches_vectorised_on_real_data(real_ohlcv: Ohlcv, name: str) -> None:
    if name.startswith("vwap") and np.isnan(real_ohlcv["volume"]).all():
        pytest.skip("file has no volume")
    assert check_case(name, real_ohlcv) > 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_streaming_matches_vectorised_with_nan_bars(ohlcv_loader: Any, name: str) -> None:
    data = {
        key: value[:3000].copy() for key, value in ohlcv_loader("ftx_BTC-PERP_1m.csv.gz").items()
    }
    rng = np.random.default_rng(7)
    for key in ("high", "low", "close", "volume"):
        data[key][rng.choice(3000, size=40, replace=False)] = np.nan
    data["close"][:5] = np.nan  # leading gap
    data["volume"][1000:1100] = np.nan  # a long run of empty volume spanning sessions
    assert check_case(name, data) > 0


@st.composite
def ohlcv_series(draw: st.DrawFn) -> Ohlcv:
    size = draw(st.integers(min_value=0, max_value=150))
    steps = st.one_of(st.just(0.0), st.floats(-0.08, 0.08, allow_nan=False))
    returns = np.array(draw(st.lists(steps, min_size=size, max_size=size)))
    level = draw(st.sampled_from([1e-5, 0.07, 1.0, 30_000.0]))
    close = level * np.exp(np.cumsum(returns))
    spread = np.array(draw(st.lists(st.floats(0.0, 0.03), min_size=size, max_size=size)))
    volume = np.array(draw(st.lists(st.floats(0.0, 1e4), min_size=size, max_size=size)))
    data = {
        "close": close,
        "high": close * (1.0 + spread),
        "low": close * (1.0 - spread[::-1]),
        "volume": volume,
        "timestamp_ms": 1_600_000_000_000.0 + 3_600_000.0 * np.arange(size),
    }
    if size:
        holes = draw(st.lists(st.integers(0, size - 1), max_size=5))
        column = draw(st.sampled_from(["close", "high", "volume"]))
        data[column][holes] = np.nan
    return data


@settings(max_examples=40, deadline=None)
@given(series=ohlcv_series())
def test_streaming_matches_vectorised_on_generated_series(series: Ohlcv) -> None:
    for name in CASES:
        check_case(name, series)


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_round_trip_through_json_continues_identically(ohlcv_loader: Any, name: str) -> None:
    data = ohlcv_loader("unknown_BTC-USDT_5m.csv.gz")
    case = CASES[name]
    columns = [data[key][:400].tolist() for key in case.inputs]
    bars = list(zip(*columns, strict=True))
    for split in (0, 3, 15, 30, 200):
        straight = case.streaming()
        expected = [straight.update(*bar) for bar in bars]
        first = case.streaming()
        for bar in bars[:split]:
            first.update(*bar)
        snapshot = json.loads(json.dumps(first.state(), allow_nan=False))
        restored = type(first).from_state(snapshot)
        assert restored.is_ready == first.is_ready
        resumed = [restored.update(*bar) for bar in bars[split:]]
        assert _same(resumed, expected[split:]), f"{name} differs after restoring at {split}"
        assert _same([restored.value], [straight.value])


def _same(left: Sequence[Any], right: Sequence[Any]) -> bool:
    flat_left = np.array(left, dtype=float).ravel()
    flat_right = np.array(right, dtype=float).ravel()
    return bool(np.array_equal(flat_left, flat_right, equal_nan=True))


def test_from_state_rejects_a_foreign_state() -> None:
    with pytest.raises(ValueError, match="StreamingSma"):
        ind.StreamingEma.from_state(ind.StreamingSma(3).state())


def test_value_and_is_ready_follow_warm_up() -> None:
    ema = ind.StreamingEma(3)
    assert math.isnan(ema.value)
    assert not ema.is_ready
    assert math.isnan(ema.update(1.0))
    assert math.isnan(ema.update(2.0))
    assert ema.update(3.0) == 2.0
    assert ema.is_ready
    assert ema.update(4.0) == pytest.approx(3.0)
    assert math.isnan(ema.update(math.nan))  # skipped bar: NaN out, state kept
    assert ema.value == pytest.approx(3.0)
