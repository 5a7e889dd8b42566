"""Live market-data feeds and user-stream supervision (EX2, EX3, EX4, EX6).

``CandleFeed`` turns a websocket + REST ``CandleSource`` into gap-free, in-order closed candles
per symbol with health; ``UserStreamSupervisor`` keeps a private stream alive and resynchronised;
``TradeFeed`` delivers public trades once each and in order across socket drops;
``ReplayCandleSource`` and ``VirtualClock`` make them deterministic in tests and replays.
"""

from aegis.data.feeds.candle_feed import CandleFeed
from aegis.data.feeds.health import FeedCounters, FeedState, StaleReason, SymbolHealth
from aegis.data.feeds.protocols import (
    CandleSource,
    NowMs,
    Sleep,
    TradeLike,
    TradeSource,
    UserStreamSource,
)
from aegis.data.feeds.replay import ReplayCandleSource
from aegis.data.feeds.series import CandleCallback, GapPolicy, HealthCallback
from aegis.data.feeds.timing import Backoff, RequestBudget, with_timeout
from aegis.data.feeds.trade_feed import (
    TradeCallback,
    TradeCounters,
    TradeFeed,
    TradeTape,
    trade_order_key,
)
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
    "TradeCallback",
    "TradeCounters",
    "TradeFeed",
    "TradeLike",
    "TradeSource",
    "TradeTape",
    "UserStreamSource",
    "UserStreamSupervisor",
    "VirtualClock",
    "trade_order_key",
    "with_timeout",
]
