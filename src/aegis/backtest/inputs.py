"""Optional backtest inputs from files: real Binance filters and a funding series."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aegis.model.enums import MarketKind
from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument

if TYPE_CHECKING:
    from aegis.venues.sim import FundingSeries


def _entries(path: Path) -> list[Mapping[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"instrument file {path}: cannot read it: {exc}") from exc
    except ValueError as exc:
        raise ConfigError(f"instrument file {path}: not valid JSON: {exc}") from exc
    symbols = document.get("symbols") if isinstance(document, Mapping) else None
    if not isinstance(symbols, list):
        raise ConfigError(
            f"instrument file {path}: expected a Binance exchangeInfo object with a 'symbols' list"
        )
    return [entry for entry in symbols if isinstance(entry, Mapping)]


def _raw(symbol: str) -> str:
    """``XRP/USDT:USDT`` -> ``XRPUSDT`` (Binance's own spelling of the pair)."""
    pair = symbol.partition(":")[0]
    return pair.replace("/", "")


def load_instrument(path: str | Path, symbol: str | None) -> Instrument:
    """Return the instrument for ``symbol`` from a Binance ``exchangeInfo`` JSON file.

    The file is ``{"symbols": [...]}`` (a raw exchangeInfo response or the bundled
    ``aegis/resources/markets/binance-*.json``). ``symbol`` is unified (``XRP/USDT:USDT`` picks
    the perpetual, ``XRP/USDT`` the spot pair: a spot file has no perpetual) or Binance's own
    (``XRPUSDT``). Without a symbol, a file with exactly one entry gives that entry.

    Raises:
        ConfigError: unreadable file, no ``symbols`` list, the symbol absent (naming both), or
            a malformed filter of the chosen entry.
    """
    source = Path(path)
    entries = _entries(source)
    if symbol is None:
        if len(entries) == 1:
            return Instrument.from_binance(entries[0])
        raise ConfigError(
            f"instrument file {source}: {len(entries)} symbols and no symbol to choose from "
            "(give --symbol or name the data file after its symbol)"
        )
    raw = _raw(symbol)
    unified = ("/" in symbol) or (":" in symbol)
    for entry in entries:
        if str(entry.get("symbol", "")) != raw:
            continue
        instrument = Instrument.from_binance(entry)
        if not unified or instrument.symbol == symbol:
            return instrument
    raise ConfigError(f"instrument file {source} has no symbol {symbol}")


def check_funding_target(instrument: Instrument, series: object) -> None:
    """Refuse a funding series for a non-perpetual or for another symbol (``ConfigError``)."""
    source = getattr(series, "source", None) or "the funding series"
    if instrument.kind is not MarketKind.LINEAR_PERPETUAL:
        raise ConfigError(
            f"funding {source} needs a linear perpetual instrument; {instrument.symbol} is "
            f"{instrument.kind.value}"
        )
    series_symbol = getattr(series, "symbol", None)
    if series_symbol is not None and series_symbol != instrument.symbol:
        raise ConfigError(
            f"funding {source} is for {series_symbol}, the backtest is for {instrument.symbol}"
        )


def funding_coverage(candle_ts_ms: Any, series: FundingSeries, warnings: list[str]) -> None:
    """Warn when the funding series leaves part of the candles uncovered (none is invented)."""
    times = [int(value) for value in series.ts_ms]
    first_candle, last_candle = int(candle_ts_ms[0]), int(candle_ts_ms[-1])
    if not times:
        warnings.append("the funding series is empty: no funding charged")
        return
    if times[0] > first_candle:
        warnings.append(
            f"funding series starts at ts_ms {times[0]}, after the first candle "
            f"(ts_ms {first_candle}): no funding charged before it"
        )
    if times[-1] < last_candle:
        warnings.append(
            f"funding series ends at ts_ms {times[-1]}, before the last candle "
            f"(ts_ms {last_candle}): no funding charged after it"
        )
