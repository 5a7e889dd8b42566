"""Data file names: ``<exchange>_<BASE>-<QUOTE>[-PERP]_<timeframe|trades>.csv.gz``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aegis.data.timeframes import parse_timeframe

_NAME: Final = re.compile(
    r"^(?P<exchange>[A-Za-z0-9.-]+)_(?P<base>[A-Za-z0-9]+)-(?P<quote>[A-Za-z0-9]+)"
    r"(?P<perp>-PERP)?_(?P<kind>[0-9]+[smhdw]|trades)(?P<suffix>-[a-z]+)?$"
)
_EXTENSIONS: Final = (".csv.gz", ".csv", ".parquet", ".pq", ".gz")


@dataclass(frozen=True, slots=True)
class FileNameInfo:
    """What a conventional data file name says: venue, unified symbol and content."""

    exchange: str
    symbol: str
    timeframe_ms: int | None
    kind: str  # "candles", "trades", or the suffix after the timeframe ("funding", "mark")


def strip_data_extension(name: str) -> str:
    """Return ``name`` without its data-file extension (``.csv.gz``, ``.parquet``...)."""
    for extension in _EXTENSIONS:
        if name.endswith(extension):
            return name[: -len(extension)]
    return name


def parse_file_name(path: str | Path) -> FileNameInfo | None:
    """Parse a conventional data file name; None when the name does not follow the convention.

    ``binance-usdm_XRP-USDT-PERP_5m.csv.gz`` -> exchange ``binance-usdm``, symbol
    ``XRP/USDT:USDT`` (unified perpetual notation), timeframe 300000 ms, kind ``candles``.
    """
    match = _NAME.match(strip_data_extension(Path(path).name))
    if match is None:
        return None
    base, quote = match["base"], match["quote"]
    if quote == "PERP":
        # FTX-style "BTC-PERP": a USD-margined perpetual
        symbol = f"{base}/USD:USD"
    elif match["perp"]:
        symbol = f"{base}/{quote}:{quote}"
    else:
        symbol = f"{base}/{quote}"
    kind_text = match["kind"]
    if kind_text == "trades":
        return FileNameInfo(match["exchange"], symbol, None, "trades")
    suffix = match["suffix"]
    kind = "candles" if suffix is None else suffix[1:]
    return FileNameInfo(match["exchange"], symbol, parse_timeframe(kind_text), kind)
