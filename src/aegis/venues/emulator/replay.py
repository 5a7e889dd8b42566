"""Replay of candle, trade and funding files: feeds, the replay clock, derived market data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aegis.data import (
    Candles,
    Funding,
    Trades,
    format_timeframe,
    read_candles,
    read_funding,
    read_trades,
)
from aegis.venues.emulator.markets import MarketKind, parse_data_file_name


@dataclass(frozen=True, slots=True)
class PublishedCandle:
    """One candle that just closed; ``on_stream`` is False inside a stream-only gap."""

    feed: CandleFeed
    index: int
    on_stream: bool


@dataclass(slots=True)
class CandleFeed:
    """The candles of one symbol and timeframe, and how many of them have closed."""

    symbol_id: str
    markets: tuple[MarketKind, ...]
    candles: Candles
    interval_ms: int
    cursor: int = 0
    hidden: set[int] = field(default_factory=set)
    stream_hidden: set[int] = field(default_factory=set)
    #: history time the wall-clock replay (``--speed X``) counts from; see ``mark_replay_start``
    replay_start_ms: int | None = None

    @property
    def interval(self) -> str:
        """Binance interval name (``5m``)."""
        return format_timeframe(self.interval_ms)

    @property
    def exhausted(self) -> bool:
        """True once every candle has been published."""
        return self.cursor >= len(self.candles)

    def closed_indices(self) -> list[int]:
        """Indices of the candles a REST client can see (closed and not left out)."""
        return [i for i in range(self.cursor) if i not in self.hidden]

    def last_visible(self) -> int | None:
        """Index of the newest visible closed candle, None before the first."""
        for index in range(self.cursor - 1, -1, -1):
            if index not in self.hidden:
                return index
        return None

    def close_time_ms(self, index: int) -> int:
        """Binance's kline close time: open + interval - 1 ms."""
        return int(self.candles.ts_ms[index]) + self.interval_ms - 1

    def now_ms(self) -> int:
        """History time of this feed: the open time of the next candle to close."""
        if self.cursor < len(self.candles):
            return int(self.candles.ts_ms[self.cursor])
        return int(self.candles.ts_ms[-1]) + self.interval_ms

    def mark_replay_start(self) -> None:
        """Start the wall-clock replay at the cursor: the candles already closed (history) are
        behind it, so the next candle closes one interval of replay time later."""
        self.replay_start_ms = self.now_ms()

    def replay_origin_ms(self) -> int:
        """History time the wall-clock replay counts from (the cursor's open time at start)."""
        if self.replay_start_ms is None:
            return int(self.candles.ts_ms[0])
        return self.replay_start_ms

    def last_price(self) -> float:
        """Close of the newest closed candle (open of the first before any closed)."""
        index = self.last_visible()
        if index is None:
            return float(self.candles.open[0])
        return float(self.candles.close[index])

    def advance(self) -> PublishedCandle | None:
        """Close the next candle; None at the end of the data."""
        if self.exhausted:
            return None
        index = self.cursor
        self.cursor += 1
        if index in self.hidden:
            return None
        return PublishedCandle(self, index, on_stream=index not in self.stream_hidden)


@dataclass(slots=True)
class TradeFeed:
    """Public trades of one symbol, published up to the symbol's history time."""

    symbol_id: str
    markets: tuple[MarketKind, ...]
    trades: Trades
    cursor: int = 0

    def advance_until(self, ts_ms: int) -> list[int]:
        """Publish every trade with a timestamp before ``ts_ms``; return their indices."""
        end = int(np.searchsorted(self.trades.ts_ms, ts_ms, side="left"))
        published = list(range(self.cursor, max(self.cursor, end)))
        self.cursor = max(self.cursor, end)
        return published


@dataclass(slots=True)
class FundingFeed:
    """Funding rates of one perpetual."""

    symbol_id: str
    funding: Funding

    def rate_at(self, ts_ms: int) -> tuple[float, int]:
        """Latest rate at or before ``ts_ms`` (the first one before the data) and its time."""
        index = int(np.searchsorted(self.funding.ts_ms, ts_ms, side="right")) - 1
        index = max(index, 0)
        return float(self.funding.rate[index]), int(self.funding.ts_ms[index])


@dataclass(slots=True)
class ReplayData:
    """Every feed loaded from the configured files."""

    candles: list[CandleFeed] = field(default_factory=list)
    trades: list[TradeFeed] = field(default_factory=list)
    funding: list[FundingFeed] = field(default_factory=list)

    def candle_feeds(self, kind: MarketKind, symbol_id: str) -> list[CandleFeed]:
        """Candle feeds of a symbol on a market, finest timeframe first."""
        found = [f for f in self.candles if f.symbol_id == symbol_id and kind in f.markets]
        return sorted(found, key=lambda f: f.interval_ms)

    def primary(self, kind: MarketKind, symbol_id: str) -> CandleFeed | None:
        """The finest candle feed of a symbol (drives prices and matching)."""
        feeds = self.candle_feeds(kind, symbol_id)
        return feeds[0] if feeds else None

    def symbols(self, kind: MarketKind) -> list[str]:
        """Symbol ids with candle data on ``kind``."""
        return sorted({f.symbol_id for f in self.candles if kind in f.markets})


def load_replay_data(paths: tuple[Path, ...]) -> ReplayData:
    """Read every file with the aegis.data readers; the file name gives symbol and kind.

    Mark-price candle files (``*-mark``) are skipped: the emulator derives the mark price from
    the trade candles. Raises DataError (bad content) or ValueError (bad name) naming the file.
    """
    data = ReplayData()
    for path in paths:
        name = parse_data_file_name(path)
        if name.kind == "trades":
            data.trades.append(TradeFeed(name.symbol_id, name.markets, read_trades(path)))
        elif name.kind.endswith("-funding"):
            data.funding.append(FundingFeed(name.symbol_id, read_funding(path)))
        elif not name.kind.endswith("-mark"):
            candles = read_candles(path)
            if candles.timeframe_ms is None:
                raise ValueError(f"{path}: cannot tell the timeframe of the candles")
            data.candles.append(
                CandleFeed(name.symbol_id, name.markets, candles, candles.timeframe_ms)
            )
    if not data.candles:
        raise ValueError(f"no candle file among {[str(p) for p in paths]}")
    return data
