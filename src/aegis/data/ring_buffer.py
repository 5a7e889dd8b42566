"""Fixed-capacity in-memory candle history per symbol (EX7: public API, no reaching inside)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from aegis.data.candles import Candles
from aegis.model.candle import Candle
from aegis.model.errors import DataError


class CandleRingBuffer:
    """The most recent ``capacity`` candles of one series, oldest dropped first.

    Timestamps must increase; `replace_latest` updates the still-open candle in place.
    """

    __slots__ = ("_capacity", "_columns", "_count", "_next", "symbol", "timeframe_ms")

    def __init__(
        self, capacity: int, *, symbol: str | None = None, timeframe_ms: int | None = None
    ) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self._capacity = capacity
        self.symbol = symbol
        self.timeframe_ms = timeframe_ms
        # one preallocated 6 x capacity float array: ts (exact below 2**53 ms) and OHLCV
        self._columns = np.zeros((6, capacity), dtype=np.float64)
        self._count = 0
        self._next = 0

    @property
    def capacity(self) -> int:
        """Maximum number of candles kept."""
        return self._capacity

    @property
    def is_full(self) -> bool:
        """True once ``capacity`` candles are held (the next append drops the oldest)."""
        return self._count == self._capacity

    def __len__(self) -> int:
        return self._count

    @property
    def latest(self) -> Candle | None:
        """The newest candle, or None when empty."""
        if self._count == 0:
            return None
        return self._candle((self._next - 1) % self._capacity)

    def append(self, candle: Candle) -> None:
        """Add ``candle``; its ``ts_ms`` must be later than the latest one's.

        Raises:
            DataError: the timestamp does not increase (names both timestamps).
        """
        latest = self.latest
        if latest is not None and candle.ts_ms <= latest.ts_ms:
            raise DataError(
                f"ring buffer {self.symbol or ''}: candle ts_ms {candle.ts_ms} is not after "
                f"the latest {latest.ts_ms}".replace("  ", " ")
            )
        self._write(self._next, candle)
        self._next = (self._next + 1) % self._capacity
        self._count = min(self._count + 1, self._capacity)

    def replace_latest(self, candle: Candle) -> None:
        """Overwrite the newest candle (same ``ts_ms``): an update of the still-open candle.

        Raises:
            DataError: the buffer is empty or ``candle.ts_ms`` differs from the latest one.
        """
        latest = self.latest
        if latest is None or latest.ts_ms != candle.ts_ms:
            held = None if latest is None else latest.ts_ms
            raise DataError(
                f"ring buffer {self.symbol}: cannot replace latest candle {held} with "
                f"ts_ms {candle.ts_ms}"
            )
        self._write((self._next - 1) % self._capacity, candle)

    def extend(self, candles: Candles) -> None:
        """Append every row of ``candles`` in order (e.g. history for indicator warm-up)."""
        for index in range(max(0, len(candles) - self._capacity), len(candles)):
            self.append(candles.row(index))

    def last(self, n: int | None = None) -> Candles:
        """Return the newest ``n`` candles (all when None), oldest first, as a copy."""
        block = self._ordered(n)
        return Candles(
            ts_ms=block[0].astype(np.int64),
            open=block[1],
            high=block[2],
            low=block[3],
            close=block[4],
            volume=block[5],
            symbol=self.symbol,
            timeframe_ms=self.timeframe_ms,
        )

    def closes(self, n: int | None = None) -> np.ndarray:
        """Return the newest ``n`` closes (all when None), oldest first, as a new array."""
        closes: np.ndarray = self._ordered(n)[4].copy()
        return closes

    def clear(self) -> None:
        """Drop every candle (after a reconnect whose gap cannot be filled, for instance)."""
        self._count = 0
        self._next = 0

    def __iter__(self) -> Iterator[Candle]:
        start = (self._next - self._count) % self._capacity
        for offset in range(self._count):
            yield self._candle((start + offset) % self._capacity)

    def _ordered(self, n: int | None) -> np.ndarray:
        if n is not None and n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        take = self._count if n is None else min(n, self._count)
        indices = (self._next - take + np.arange(take)) % self._capacity
        return self._columns[:, indices]

    def _write(self, slot: int, candle: Candle) -> None:
        self._columns[:, slot] = (
            candle.ts_ms,
            candle.open,
            candle.high,
            candle.low,
            candle.close,
            candle.volume,
        )

    def _candle(self, slot: int) -> Candle:
        ts, o, h, lo, c, v = self._columns[:, slot].tolist()
        return Candle(int(ts), o, h, lo, c, v)


class RingBuffers:
    """One `CandleRingBuffer` per symbol, created on first use with a shared capacity."""

    __slots__ = ("_buffers", "_capacity", "_timeframe_ms")

    def __init__(self, capacity: int, *, timeframe_ms: int | None = None) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self._capacity = capacity
        self._timeframe_ms = timeframe_ms
        self._buffers: dict[str, CandleRingBuffer] = {}

    def buffer(self, symbol: str) -> CandleRingBuffer:
        """Return the buffer of ``symbol``, creating an empty one if needed."""
        found = self._buffers.get(symbol)
        if found is None:
            found = CandleRingBuffer(self._capacity, symbol=symbol, timeframe_ms=self._timeframe_ms)
            self._buffers[symbol] = found
        return found

    def append(self, symbol: str, candle: Candle) -> None:
        """Append ``candle`` to the buffer of ``symbol`` (see `CandleRingBuffer.append`)."""
        self.buffer(symbol).append(candle)

    def __getitem__(self, symbol: str) -> CandleRingBuffer:
        try:
            return self._buffers[symbol]
        except KeyError:
            raise KeyError(f"no ring buffer for symbol {symbol!r}") from None

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._buffers

    def __len__(self) -> int:
        return len(self._buffers)

    @property
    def symbols(self) -> list[str]:
        """Symbols that have a buffer, sorted."""
        return sorted(self._buffers)
