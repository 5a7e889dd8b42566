"""A Decision whose thought and metadata are rendered only when someone reads them.

A bar-by-bar run builds one Decision per candle and almost all are HOLD; formatting a sentence
and sanitising a metadata dict on every bar would cost more than the strategy logic itself
(measured: f-string 0.5 µs, dataclass init 0.65 µs), so the text is built on first access.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aegis.model._slots import slot_setters
from aegis.model.signals import Action, Decision, JsonValue, sanitize_metadata

#: Renders (thought, raw metadata) from the arguments captured on the bar.
Renderer = Callable[..., tuple[str, Mapping[str, object]]]

_set = object.__setattr__


class LazyDecision(Decision):
    """A :class:`Decision` that renders ``thought`` and ``metadata`` on first access.

    It compares equal to a plain Decision with the same field values and pickles as one.
    """

    __slots__ = ("_args", "_metadata_value", "_render", "_thought_value")

    _render: Renderer | None
    _args: tuple[Any, ...]  # Any: renderer arguments are floats, ints and strings per strategy
    _thought_value: str | None
    _metadata_value: Mapping[str, JsonValue] | None

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
        # Same signature as Decision so that dataclasses.replace() keeps working.
        _set(self, "symbol", symbol)
        _set(self, "ts_ms", ts_ms)
        _set(self, "action", action)
        _set(self, "strength", strength)
        _set(self, "strategy", strategy)
        _set(self, "_render", None)
        _set(self, "_args", ())
        _set(self, "_thought_value", thought)
        _set(self, "_metadata_value", {} if metadata is None else metadata)

    @property  # a read-only lazy view of the parent's field
    def thought(self) -> str:
        """The human-readable reason, rendered on first access."""
        if self._thought_value is None:
            self._materialise()
        assert self._thought_value is not None  # noqa: S101  # why: set by _materialise
        return self._thought_value

    @property  # a read-only lazy view of the parent's field
    def metadata(self) -> Mapping[str, JsonValue]:
        """JSON-safe metadata (NaN/inf sanitised, ST3), rendered on first access."""
        if self._metadata_value is None:
            self._materialise()
        assert self._metadata_value is not None  # noqa: S101  # why: set by _materialise
        return self._metadata_value

    def _materialise(self) -> None:
        render = self._render
        assert render is not None  # noqa: S101  # why: lazy instances always carry a renderer
        thought, raw = render(*self._args)
        metadata = sanitize_metadata(raw)
        _set(self, "_thought_value", thought)
        _set(self, "_metadata_value", metadata if isinstance(metadata, dict) else {})

    def to_decision(self) -> Decision:
        """Return a plain, fully rendered Decision."""
        return Decision(
            self.symbol,
            self.ts_ms,
            self.action,
            self.strength,
            self.thought,
            self.strategy,
            self.metadata,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return _fields(self) == _fields(other)

    __hash__ = None  # type: ignore[assignment]  # why: metadata is a dict, as in Decision

    def __reduce__(self) -> tuple[type[Decision], tuple[Any, ...]]:
        return (Decision, _fields(self))

    def __repr__(self) -> str:
        return repr(self.to_decision()).replace("Decision(", "LazyDecision(", 1)


def _fields(decision: Decision) -> tuple[Any, ...]:
    return (
        decision.symbol,
        decision.ts_ms,
        decision.action,
        decision.strength,
        decision.thought,
        decision.strategy,
        decision.metadata,
    )


_new = object.__new__
# the slots' own setters: ~half the cost of object.__setattr__ (one decision per order)
_SET_SYMBOL, _SET_TS_MS, _SET_ACTION, _SET_STRENGTH, _SET_STRATEGY = slot_setters(
    Decision, "symbol", "ts_ms", "action", "strength", "strategy"
)
_SET_RENDER, _SET_ARGS, _SET_THOUGHT, _SET_METADATA = slot_setters(
    LazyDecision, "_render", "_args", "_thought_value", "_metadata_value"
)


def lazy_decision(
    symbol: str,
    ts_ms: int,
    action: Action,
    strength: float,
    strategy: str,
    render: Renderer,
    args: tuple[Any, ...],
) -> LazyDecision:
    """Build a decision whose thought is ``render(*args)[0]``, formatted only when read."""
    decision: LazyDecision = _new(LazyDecision)
    _SET_SYMBOL(decision, symbol)
    _SET_TS_MS(decision, ts_ms)
    _SET_ACTION(decision, action)
    _SET_STRENGTH(decision, strength)
    _SET_STRATEGY(decision, strategy)
    _SET_RENDER(decision, render)
    _SET_ARGS(decision, args)
    _SET_THOUGHT(decision, None)
    _SET_METADATA(decision, None)
    return decision
