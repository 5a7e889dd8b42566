"""The issue's vectorbt reference, measured on the benchmark's own file (not part of `make bench`).

vectorbt is not an Aegis dependency (it pulls numba); run this in a separate virtualenv:

    python3.11 -m venv /tmp/vbt && /tmp/vbt/bin/pip install vectorbt==1.2.0 pyarrow==26.0.1
    /tmp/vbt/bin/python benchmarks/peers/vectorbt_ema_cross.py \
        build/bench/bench_BTC-USDT_1m_1000000.parquet

Same convention as `aegis backtest` in the correctness bar: EMA 12/26 crossings on the close,
filled at the next candle's open, 0.001 units, 0.1 % fee a side, 100,000 cash. Prints the best
of three timed runs after one run that compiles numba's functions, and the entry count, which
must equal `aegis backtest`'s `trades` on the same file.
"""

from __future__ import annotations

import sys
import time

import pandas as pd  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import vectorbt as vbt  # type: ignore[import-untyped]


def main(path: str) -> None:
    table = pq.read_table(path).to_pandas()
    close = pd.Series(table["close"].to_numpy())
    open_ = pd.Series(table["open"].to_numpy())

    def run() -> object:
        fast = vbt.MA.run(close, 12, ewm=True)
        slow = vbt.MA.run(close, 26, ewm=True)
        entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)
        exits = fast.ma_crossed_below(slow).shift(1, fill_value=False)
        return vbt.Portfolio.from_signals(
            close, entries, exits, price=open_, size=0.001, fees=0.001, init_cash=100_000,
            freq="1min",
        )  # fmt: skip

    run()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        portfolio = run()
        best = min(best, time.perf_counter() - started)
    trades = portfolio.trades.count()  # type: ignore[attr-defined]
    rate = len(close) / best
    print(f"vectorbt {vbt.__version__}: {best:.3f} s, {rate:,.0f} candles/s, {trades} entries")


if __name__ == "__main__":
    main(sys.argv[1])
