"""Package-level facts every user relies on."""

import json
import math

import aegis
from aegis.model.signals import Action, Decision, sanitize_metadata


def test_version_is_exposed() -> None:
    assert aegis.__version__.count(".") == 2


def test_sanitize_metadata_removes_nan_and_infinities_recursively() -> None:
    dirty = {"rsi": math.nan, "bands": (1.0, math.inf, -math.inf), 3: {"x": float("nan")}}
    clean = sanitize_metadata(dirty)
    assert clean == {"rsi": None, "bands": [1.0, None, None], "3": {"x": None}}
    json.dumps(clean, allow_nan=False)


def test_hold_decision_is_not_actionable() -> None:
    decision = Decision("BTC/USDT", 0, Action.HOLD, 0.0, "no cross", "ema_cross")
    assert not decision.is_actionable
    assert Action.HOLD == 0
