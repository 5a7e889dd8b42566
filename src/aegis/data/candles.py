"""Columnar market-data containers: candles, trades and funding rates as numpy arrays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from aegis.model.candle import Candle

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
SideArray = npt.NDArray[np.int8]

#: Codes of `Trades.side`: the aggressor side, 0 where the source does not say.
SIDE_BUY: Final = 1
SIDE_SELL: Final = -1
SIDE_UNKNOWN: Final = 0


def _frozen(values: object, dtype: type[np.generic], name: str, length: int | None) -> np.ndarray:
    # ascontiguousarray copies only when the dtype or layout differs; the read-only view stops
    # holders of the container from changing a candle, without freezing the caller's own array
    array = np.ascontiguousarray(values, dtype=dtype).view()
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if length is not None and array.shape[0] != length:
        raise ValueError(f"{name} has {array.shape[0]} values, ts_ms has {length}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class Candles:
    """OHLCV candles as read-only numpy arrays; ``ts_ms`` is each candle's open time (UTC ms).

    ``volume`` is NaN where the source had none. ``symbol``, ``timeframe_ms`` and ``source`` (the
    file it came from) are optional metadata.
    """

    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    symbol: str | None = None
    timeframe_ms: int | None = None
    source: str | None = field(default=None)

    def __post_init__(self) -> None:
        ts = _frozen(self.ts_ms, np.int64, "ts_ms", None)
        object.__setattr__(self, "ts_ms", ts)
        for name in ("open", "high", "low", "close", "volume"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.float64, name, len(ts)))
        if self.timeframe_ms is not None and self.timeframe_ms <= 0:
            raise ValueError(f"timeframe_ms must be positive, got {self.timeframe_ms}")

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    def __repr__(self) -> str:
        return (
            f"Candles(rows={len(self)}, symbol={self.symbol!r}, "
            f"timeframe_ms={self.timeframe_ms!r}, source={self.source!r})"
        )

    def slice(self, start: int, stop: int | None = None) -> Candles:
        """Return rows ``start:stop`` as views (no copy), keeping the metadata."""
        window = slice(start, stop)
        return Candles(
            ts_ms=self.ts_ms[window],
            open=self.open[window],
            high=self.high[window],
            low=self.low[window],
            close=self.close[window],
            volume=self.volume[window],
            symbol=self.symbol,
            timeframe_ms=self.timeframe_ms,
            source=self.source,
        )

    def row(self, index: int) -> Candle:
        """Return row ``index`` (negative counts from the end) as a `Candle`."""
        return Candle(
            ts_ms=int(self.ts_ms[index]),
            open=float(self.open[index]),
            high=float(self.high[index]),
            low=float(self.low[index]),
            close=float(self.close[index]),
            volume=float(self.volume[index]),
        )

    def rows(self) -> Iterable[Candle]:
        """Yield every row as a `Candle` (slow path: for streaming consumers and tests)."""
        for index in range(len(self)):
            yield self.row(index)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Candle | tuple[int, float, float, float, float, float]],
        *,
        symbol: str | None = None,
        timeframe_ms: int | None = None,
        source: str | None = None,
    ) -> Candles:
        """Build from `Candle` objects or ``(ts_ms, open, high, low, close, volume)`` tuples."""
        as_tuples = [
            (r.ts_ms, r.open, r.high, r.low, r.close, r.volume) if isinstance(r, Candle) else r
            for r in rows
        ]
        if as_tuples:
            ts, o, h, lo, c, v = (list(col) for col in zip(*as_tuples, strict=True))
        else:
            ts, o, h, lo, c, v = [], [], [], [], [], []
        return cls(
            ts_ms=np.asarray(ts, dtype=np.int64),
            open=np.asarray(o, dtype=np.float64),
            high=np.asarray(h, dtype=np.float64),
            low=np.asarray(lo, dtype=np.float64),
            close=np.asarray(c, dtype=np.float64),
            volume=np.asarray(v, dtype=np.float64),
            symbol=symbol,
            timeframe_ms=timeframe_ms,
            source=source,
        )

    @classmethod
    def empty(cls, *, symbol: str | None = None, timeframe_ms: int | None = None) -> Candles:
        """Return a container with no rows."""
        return cls.from_rows([], symbol=symbol, timeframe_ms=timeframe_ms)


@dataclass(frozen=True, slots=True, eq=False)
class Trades:
    """Public trades as read-only arrays; ``side`` holds `SIDE_BUY`/`SIDE_SELL`/`SIDE_UNKNOWN`."""

    ts_ms: IntArray
    price: FloatArray
    quantity: FloatArray
    side: SideArray
    symbol: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        ts = _frozen(self.ts_ms, np.int64, "ts_ms", None)
        object.__setattr__(self, "ts_ms", ts)
        object.__setattr__(self, "price", _frozen(self.price, np.float64, "price", len(ts)))
        object.__setattr__(
            self, "quantity", _frozen(self.quantity, np.float64, "quantity", len(ts))
        )
        object.__setattr__(self, "side", _frozen(self.side, np.int8, "side", len(ts)))

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    def side_name(self, index: int) -> str | None:
        """Return ``"buy"``, ``"sell"`` or None (source has no side) for row ``index``."""
        code = int(self.side[index])
        return "buy" if code == SIDE_BUY else "sell" if code == SIDE_SELL else None


@dataclass(frozen=True, slots=True, eq=False)
class Funding:
    """Funding rates per period (fraction, e.g. 0.0001) as read-only arrays."""

    ts_ms: IntArray
    rate: FloatArray
    symbol: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        ts = _frozen(self.ts_ms, np.int64, "ts_ms", None)
        object.__setattr__(self, "ts_ms", ts)
        object.__setattr__(self, "rate", _frozen(self.rate, np.float64, "rate", len(ts)))

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])
