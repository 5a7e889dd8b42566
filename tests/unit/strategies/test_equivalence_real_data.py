"""Streaming and vectorised forms agree bar for bar on every real candle file (ST1, ST3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aegis.data import Candles, read_candles
from aegis.model.candle import Candle
from aegis.strategies import Strategy, create_strategy

CONFIGS: list[tuple[str, dict[str, object]]] = [
    ("ema_cross", {}),
    ("ema_cross", {"fast": 5, "slow": 8}),
    ("ema_adx_trend", {}),
    ("ema_adx_trend", {"allow_short": True, "adx_threshold": 20.0}),
    ("keltner_breakout", {}),
    ("keltner_breakout", {"allow_short": True, "multiplier": 1.0}),
    ("momentum", {}),
    ("momentum", {"allow_short": True, "bars": 2, "exit_bars": 2}),
    ("mean_reversion", {}),
    ("mean_reversion", {"allow_short": True}),
    ("candlestick_reversal", {}),
    ("candlestick_reversal", {"allow_short": True}),
    ("confluence", {"members": "ema_cross,momentum,keltner_breakout", "weights": "2,1,1"}),
    (
        "confluence",
        {"members": "momentum,candlestick_reversal", "tie_rule": "long", "max_age_ms": 600000},
    ),
]
# Bollinger's running-sum SMA differs from the vectorised one by ~1 ulp, which can move the
# 6th significant digit of a printed band; every other thought is identical.
EXACT_THOUGHTS = {"ema_cross", "ema_adx_trend", "keltner_breakout", "momentum"}


def _rows(candles: Candles) -> list[Candle]:
    return [candles.row(i) for i in range(len(candles))]


@pytest.fixture(scope="module")
def real_candles(real_candle_files: list[Path]) -> list[tuple[str, Candles, list[Candle]]]:
    loaded: list[tuple[str, Candles, list[Candle]]] = []
    for path in real_candle_files:
        candles = read_candles(path)
        loaded.append((path.name, candles, _rows(candles)))
    return loaded


@pytest.mark.parametrize(("name", "params"), CONFIGS)
def test_streaming_equals_vectorised_on_every_real_file(
    real_candles: list[tuple[str, Candles, list[Candle]]],
    name: str,
    params: dict[str, object],
) -> None:
    assert len(real_candles) >= 20
    total_signals = 0
    for file_name, candles, rows in real_candles:
        streaming: Strategy = create_strategy(name, params)
        frame = create_strategy(name, params).signals(candles)
        assert frame is not None
        decisions = [streaming.on_candle(row, "X/Y") for row in rows]
        actions = np.array([int(d.action) for d in decisions], dtype=np.int8)
        mismatch = np.flatnonzero(actions != frame.action)
        assert mismatch.size == 0, f"{name} on {file_name}: bars {mismatch[:10]} differ"
        strengths = np.array([d.strength for d in decisions])
        np.testing.assert_allclose(strengths, frame.strength, rtol=1e-9, atol=1e-12)
        assert ((frame.strength >= 0) & (frame.strength <= 1)).all()
        total_signals += int(np.count_nonzero(frame.action))
        for i in [*frame.actionable()[:50].tolist(), 0, len(rows) // 2, len(rows) - 1]:
            vectorised = frame.decision_at(i, candles, "X/Y")
            assert vectorised.action == decisions[i].action
            assert vectorised.ts_ms == decisions[i].ts_ms == rows[i].ts_ms
            if name in EXACT_THOUGHTS:
                assert vectorised.thought == decisions[i].thought, (file_name, i)
    assert total_signals > 0, f"{name} never fired on any real file"


@pytest.mark.parametrize(("name", "params"), CONFIGS)
def test_every_decision_metadata_is_strict_json(
    real_candles: list[tuple[str, Candles, list[Candle]]],
    name: str,
    params: dict[str, object],
) -> None:
    # the 1h mark-price file has no volume at all (NaN), the kraken file zero-volume candles
    for _file_name, _candles, rows in real_candles[:: max(1, len(real_candles) // 6)]:
        strategy = create_strategy(name, params)
        for row in rows[:400]:
            decision = strategy.on_candle(row, "X/Y")
            text = json.dumps(
                {"thought": decision.thought, "metadata": dict(decision.metadata)},
                allow_nan=False,
            )
            assert decision.thought
            assert text
