"""What a run leaves behind: the candles seen, fills and their bars, decisions, round trips.

``RunRecord`` feeds the run's summary. ``TradeTracker``, which derives the round trips the
journal stores (PE2) from the position legs before and after each fill, moved to
``aegis.execution.reconcile`` so that reconciliation's adopted fills write their trades with the
same derivation; it is re-exported here for the engine.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from aegis.execution.reconcile import TradeTracker as TradeTracker
from aegis.model.events import Fill
from aegis.model.signals import Decision

__all__ = ["RunRecord", "SymbolRecord", "TradeTracker"]

_ZERO: Final = Decimal(0)


@dataclass(slots=True)
class SymbolRecord:
    """One symbol's run: candle times and closes, fills and the candle index of each fill.

    ``opening_net`` and ``opening_equity`` are the symbol's signed position and the portfolio's
    equity when its first candle of the run was processed: a run that starts with a position
    (restored at a restart, or adopted before the first candle) carries it in from there.
    """

    symbol: str
    ts_ms: list[int] = field(default_factory=list)
    close: list[float] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    fill_bars: list[int] = field(default_factory=list)
    opening_net: Decimal = _ZERO
    opening_equity: Decimal | None = None

    def add_candle(self, ts_ms: int, close: float) -> None:
        """Record a processed candle."""
        self.ts_ms.append(ts_ms)
        self.close.append(close)

    def add_fill(self, fill: Fill) -> None:
        """Record a fill on the latest candle (the one being processed when it was applied)."""
        self.fills.append(fill)
        self.fill_bars.append(max(0, len(self.ts_ms) - 1))


@dataclass(slots=True)
class RunRecord:
    """Every symbol's record plus the recent decisions (for the live view)."""

    symbols: dict[str, SymbolRecord]
    initial_cash: Decimal
    recent_decisions: deque[Decision] = field(default_factory=lambda: deque(maxlen=20))
    decisions_taken: int = 0

    @classmethod
    def for_symbols(cls, symbols: tuple[str, ...], initial_cash: Decimal) -> RunRecord:
        """Return an empty record for ``symbols``."""
        return cls({symbol: SymbolRecord(symbol) for symbol in symbols}, initial_cash)

    def add_fill(self, fill: Fill) -> None:
        """Route a fill to its symbol's record (fills of other symbols are ignored)."""
        record = self.symbols.get(fill.symbol)
        if record is not None:
            record.add_fill(fill)

    def add_decision(self, decision: Decision) -> None:
        """Remember a decision for the live view."""
        self.recent_decisions.append(decision)
        self.decisions_taken += 1
