"""Live market-data feeds and user-stream supervision (EX2, EX3, EX4, EX6).

``CandleFeed`` turns a websocket + REST ``CandleSource`` into gap-free, in-order closed candles
per symbol with health; ``UserStreamSupervisor`` keeps a private stream alive and resynchronised;
``ReplayCandleSource`` and ``VirtualClock`` make both deterministic in tests and replays.
"""

from aegis.data.feeds.candle_feed import CandleFeed
from aegis.data.feeds.health import FeedCounters, FeedState, StaleReason, SymbolHealth
from aegis.data.feeds.protocols import CandleSource, NowMs, Sleep, UserStreamSource
from aegis.data.feeds.replay import ReplayCandleSource
from aegis.data.feeds.series import CandleCallback, GapPolicy, HealthCallback
from aegis.data.feeds.timing import Backoff, RequestBudget, with_timeout
from aegis.data.feeds.user_stream import Resync, UserStreamSupervisor
from aegis.data.feeds.virtual_clock import VirtualClock

__all__ = [
    "Backoff",
    "CandleCallback",
    "CandleFeed",
    "CandleSource",
    "FeedCounters",
    "FeedState",
    "GapPolicy",
    "HealthCallback",
    "NowMs",
    "ReplayCandleSource",
    "RequestBudget",
    "Resync",
    "Sleep",
    "StaleReason",
    "SymbolHealth",
    "UserStreamSource",
    "UserStreamSupervisor",
    "VirtualClock",
    "with_timeout",
]
