"""Market data: columnar containers, file IO, quality checks, resampling, ring buffers, filters."""

from aegis.data.bundled import bundled_data_files, bundled_data_path, bundled_markets_path
from aegis.data.candles import SIDE_BUY, SIDE_SELL, SIDE_UNKNOWN, Candles, Funding, Trades
from aegis.data.io import read_candles, read_funding, read_trades, write_parquet
from aegis.data.naming import FileNameInfo, parse_file_name
from aegis.data.outliers import OutlierFilter
from aegis.data.quality import CandleReport, Gap, Outlier, check_candles, find_gaps
from aegis.data.resample import resample
from aegis.data.ring_buffer import CandleRingBuffer, RingBuffers
from aegis.data.timeframes import format_timeframe, infer_timeframe, parse_timeframe

__all__ = [
    "SIDE_BUY",
    "SIDE_SELL",
    "SIDE_UNKNOWN",
    "CandleReport",
    "CandleRingBuffer",
    "Candles",
    "FileNameInfo",
    "Funding",
    "Gap",
    "Outlier",
    "OutlierFilter",
    "RingBuffers",
    "Trades",
    "bundled_data_files",
    "bundled_data_path",
    "bundled_markets_path",
    "check_candles",
    "find_gaps",
    "format_timeframe",
    "infer_timeframe",
    "parse_file_name",
    "parse_timeframe",
    "read_candles",
    "read_funding",
    "read_trades",
    "resample",
    "write_parquet",
]
