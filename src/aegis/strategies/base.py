"""The Strategy base class, the vectorised SignalFrame, and the candle-array protocol."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from aegis.model.candle import Candle
from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision, JsonValue

from ._decision import Renderer, lazy_decision
from ._params import Param, ParamValue, resolve_params

FloatArray = NDArray[np.float64]
ActionArray = NDArray[np.int8]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]
_ACTION_OF: dict[int, Action] = {action.value: action for action in Action}


class CandleArrays(Protocol):
    """What a vectorised strategy needs from ``aegis.data.Candles``: aligned numpy arrays."""

    @property
    def ts_ms(self) -> NDArray[np.int64]: ...
    @property
    def open(self) -> FloatArray: ...
    @property
    def high(self) -> FloatArray: ...
    @property
    def low(self) -> FloatArray: ...
    @property
    def close(self) -> FloatArray: ...
    @property
    def volume(self) -> FloatArray: ...


#: Returns (thought, raw metadata) for bar ``i`` of a SignalFrame.
Explainer = Callable[[int], tuple[str, Mapping[str, object]]]


@dataclass(frozen=True, slots=True, eq=False)
class SignalFrame:
    """Vectorised output of a strategy: one Action code and one strength per candle.

    ``decision_at(i, candles)`` builds the same Decision (thought text included) that the
    streaming form returns for bar ``i``; it is meant for the few bars the engine visits.
    """

    action: ActionArray
    strength: FloatArray
    strategy: str
    explain: Explainer

    def __post_init__(self) -> None:
        if self.action.dtype != np.int8 or self.strength.dtype != np.float64:
            raise ValueError(
                f"{self.strategy}: SignalFrame needs int8 actions and float64 strengths, "
                f"got {self.action.dtype} and {self.strength.dtype}"
            )
        if self.action.shape != self.strength.shape or self.action.ndim != 1:
            raise ValueError(
                f"{self.strategy}: SignalFrame arrays differ in shape: "
                f"action {self.action.shape}, strength {self.strength.shape}"
            )

    def __len__(self) -> int:
        return int(self.action.shape[0])

    def actionable(self) -> NDArray[np.intp]:
        """Indices of the bars whose action is not HOLD."""
        return np.flatnonzero(self.action)

    def decision_at(self, i: int, candles: CandleArrays, symbol: str | None = None) -> Decision:
        """Return the Decision for bar ``i``; ``symbol`` defaults to ``candles.symbol``.

        The thought and metadata are rendered on first read (a ``LazyDecision``, as in the
        streaming form): the backtester builds one per order and rarely reads them.
        """
        if symbol is None:
            symbol = getattr(candles, "symbol", None) or ""
        index = int(i)
        code = self.action.item(index)
        # a table lookup: Action(code) is two Python-level enum calls; it still raises for an
        # unknown code
        action = _ACTION_OF.get(code)
        if action is None:
            action = Action(code)
        return lazy_decision(
            symbol,
            candles.ts_ms.item(index),
            action,
            self.strength.item(index),
            self.strategy,
            self.explain,
            (index,),
        )


class Strategy:
    """Base class of every strategy: declared parameters, a streaming and a vectorised form.

    Subclasses set ``name`` and ``parameters``, implement ``_configure`` (read typed parameter
    values, set ``warmup_bars``, check cross-parameter rules), ``_reset`` (fresh streaming state)
    and ``_on_candle``; they override ``signals`` when a vectorised form exists. One instance
    follows one symbol: the engine creates one per symbol stream.
    """

    name: ClassVar[str] = ""
    parameters: ClassVar[Mapping[str, Param]] = {}
    description: ClassVar[str] = ""

    warmup_bars: int

    def __init__(self, **params: object) -> None:
        self.params: dict[str, ParamValue] = resolve_params(self.name, self.parameters, params)
        self.warmup_bars = 0
        self._configure()
        # Snapshots replay these candles: exponential smoothing forgets its seed to float
        # precision after ~40 periods, so restore() reproduces the live state.
        self._recent: deque[Candle] = deque(maxlen=max(200, 40 * self.warmup_bars))
        self._remember = self._recent.append
        self._symbol: str | None = None
        self._reset()

    # -- subclass hooks -------------------------------------------------------------------
    def _configure(self) -> None:
        """Read parameters into typed attributes, set ``warmup_bars``; raise ConfigError."""

    def _reset(self) -> None:
        """Create fresh streaming indicators and state."""

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        """Decide on one closed candle (streaming form)."""
        return Decision(
            symbol, candle.ts_ms, Action.HOLD, 0.0, f"{self.name}: no rule", self.name, {}
        )

    # -- public API -----------------------------------------------------------------------
    def on_candle(self, candle: Candle, symbol: str) -> Decision:
        """Update on one closed candle and return a Decision (HOLD with a thought if idle)."""
        if symbol is not self._symbol and symbol != self._symbol:
            if self._symbol is not None:
                raise ConfigError(
                    f"{self.name}: instance follows {self._symbol!r}, got a candle for "
                    f"{symbol!r}; create one strategy per symbol"
                )
            self._symbol = symbol
        self._remember(candle)
        return self._on_candle(candle, symbol)

    def signals(self, candles: CandleArrays) -> SignalFrame | None:
        """Return the vectorised signals, or None when the engine must walk bar by bar."""
        return None

    def reset(self) -> None:
        """Forget every candle seen: the next ``on_candle`` starts a fresh warm-up."""
        self._recent.clear()
        self._symbol = None
        self._reset()

    def state(self) -> dict[str, JsonValue]:
        """Return a JSON-safe snapshot: parameters, symbol and the candles needed to replay."""
        candles: list[JsonValue] = [
            [c.ts_ms, *(_finite_or_none(x) for x in (c.open, c.high, c.low, c.close, c.volume))]
            for c in self._recent
        ]
        return {
            "strategy": self.name,
            "version": 1,
            "params": dict(self.params),
            "symbol": self._symbol,
            "recent_candles": candles,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot from :meth:`state` by replaying its candles.

        Raises:
            ConfigError: when the snapshot belongs to another strategy or other parameters.
        """
        if state.get("strategy") != self.name:
            raise ConfigError(
                f"{self.name}: cannot restore a snapshot of strategy {state.get('strategy')!r}"
            )
        if state.get("params") != self.params:
            raise ConfigError(
                f"{self.name}: snapshot params {state.get('params')!r} differ from {self.params!r}"
            )
        self.reset()
        symbol = state.get("symbol")
        if symbol is None:
            return
        for row in state.get("recent_candles", []):
            ts_ms, *values = row
            o, h, low, c, v = (math.nan if x is None else float(x) for x in values)
            self.on_candle(Candle(int(ts_ms), o, h, low, c, v), str(symbol))

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{type(self).__name__}({args})"

    # -- helpers for subclasses -----------------------------------------------------------
    def _int(self, key: str) -> int:
        value = self.params[key]
        assert isinstance(value, int)  # noqa: S101  # why: resolve_params coerced it
        return value

    def _float(self, key: str) -> float:
        value = self.params[key]
        assert isinstance(value, float)  # noqa: S101  # why: resolve_params coerced it
        return value

    def _bool(self, key: str) -> bool:
        value = self.params[key]
        assert isinstance(value, bool)  # noqa: S101  # why: resolve_params coerced it
        return value

    def _frame(
        self, action: ActionArray, strength: FloatArray, render: Renderer, args_at: ArgsAt
    ) -> SignalFrame:
        """Build a SignalFrame whose thoughts use the same renderer as the streaming form."""

        def explain(i: int) -> tuple[str, Mapping[str, object]]:
            return render(*args_at(i))

        return SignalFrame(action, strength, self.name, explain)


#: Returns the renderer arguments for bar ``i`` (same tuple the streaming form would capture).
ArgsAt = Callable[[int], tuple[Any, ...]]


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
