"""Per-symbol feed health (EX6) and the plain counters a metrics exporter reads later."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class FeedState(StrEnum):
    """Whether a symbol's series may be decided on."""

    WAITING = "waiting"  # no candle yet: "no data", not "zero"
    HEALTHY = "healthy"
    STALE = "stale"


class StaleReason(StrEnum):
    """Why a symbol is stale."""

    GAP = "gap"  # candles missing that REST could not supply either
    NO_DATA = "no_data"  # no candle for ``stale_after_timeframes`` timeframes


@dataclass(frozen=True, slots=True)
class SymbolHealth:
    """A snapshot of one symbol's feed.

    ``epoch`` grows by one each time the series restarts after a gap that was never filled:
    a consumer seeing a new epoch must drop what it derived from the older candles.
    ``gap_from_ms`` / ``gap_to_ms`` give the open times of the first missing candle and of the
    first candle after the hole while ``stale_reason`` is GAP.
    """

    symbol: str
    timeframe_ms: int
    state: FeedState
    last_candle_ms: int | None = None
    stale_reason: StaleReason | None = None
    stale_since_ms: int | None = None
    gap_from_ms: int | None = None
    gap_to_ms: int | None = None
    epoch: int = 0

    @property
    def is_stale(self) -> bool:
        """Return True when no decision may be taken on this symbol."""
        return self.state is not FeedState.HEALTHY

    def age_ms(self, now_ms: int) -> int | None:
        """Return how long ago the last candle closed, or None before the first candle."""
        if self.last_candle_ms is None:
            return None
        return max(0, now_ms - (self.last_candle_ms + self.timeframe_ms))


@dataclass(slots=True)
class FeedCounters:
    """Monotonic counts per symbol (plain dicts: the metrics layer exports them)."""

    reconnects: Counter[str] = field(default_factory=Counter)
    polls: Counter[str] = field(default_factory=Counter)
    poll_errors: Counter[str] = field(default_factory=Counter)
    backfilled_candles: Counter[str] = field(default_factory=Counter)
    backfill_requests: Counter[str] = field(default_factory=Counter)
    stale_events: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    off_grid: Counter[str] = field(default_factory=Counter)
    outlier_rejections: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    series_resets: Counter[str] = field(default_factory=Counter)
