"""Strategy decisions: what to do, how strongly, and the human-readable reason why (ST3)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from aegis.model._slots import slot_setters


class Action(IntEnum):
    """What a strategy wants; codes fit an int8 array (HOLD = 0)."""

    HOLD = 0
    ENTER_LONG = 1
    EXIT_LONG = 2
    ENTER_SHORT = 3
    EXIT_SHORT = 4


JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def sanitize_metadata(value: Any) -> JsonValue:
    """Return a JSON-safe copy: NaN and infinities become None, tuples lists, keys strings."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): sanitize_metadata(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [sanitize_metadata(item) for item in value]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True, init=False)
class Decision:
    """A strategy's verdict on one candle, with its strength in [0, 1] and its thought."""

    symbol: str
    ts_ms: int
    action: Action
    strength: float
    thought: str
    strategy: str
    metadata: Mapping[str, JsonValue] = field(default_factory=dict)

    # Written out (see aegis.model._slots): a streaming strategy returns one Decision per bar.
    def __init__(
        self,
        symbol: str,
        ts_ms: int,
        action: Action,
        strength: float,
        thought: str,
        strategy: str,
        metadata: Mapping[str, JsonValue] | None = None,
    ) -> None:
        _set_symbol(self, symbol)
        _set_ts_ms(self, ts_ms)
        _set_action(self, action)
        _set_strength(self, strength)
        _set_thought(self, thought)
        _set_strategy(self, strategy)
        _set_metadata(self, {} if metadata is None else metadata)

    @property
    def is_actionable(self) -> bool:
        return self.action is not Action.HOLD


(
    _set_symbol,
    _set_ts_ms,
    _set_action,
    _set_strength,
    _set_thought,
    _set_strategy,
    _set_metadata,
) = slot_setters(
    Decision, "symbol", "ts_ms", "action", "strength", "thought", "strategy", "metadata"
)
