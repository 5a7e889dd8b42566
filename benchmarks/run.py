"""`python -m benchmarks.run` (`make bench`): the backtester's performance bar (issue 2, §9).

Writes build/bench/backtest.json, prints a table, exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from benchmarks import model_floor
from benchmarks.data import BENCH_DIR, CANDLES, bench_file, load

TARGET_CANDLES_PER_SECOND = 3_000_000
TARGET_PROCESS_SECONDS = 3.0
TARGET_RSS_BYTES_PER_CANDLE = 200
TARGET_STREAMING_CANDLES_PER_SECOND = 150_000


def _config() -> object:
    from aegis.backtest import BacktestConfig

    return BacktestConfig(cash=Decimal("100000"), fee_bps=Decimal("10"), size=Decimal("0.001"))


def engine_seconds(repeat: int) -> tuple[float, int, int]:
    """Best engine time of ``repeat`` runs of ema_cross 12/26 on the candles in memory.

    Returns (seconds, entry fills, orders).
    """
    from aegis.backtest import run_backtest
    from aegis.strategies import create_strategy

    candles = load()
    best = float("inf")
    trades = orders = 0
    for _ in range(repeat):
        strategy = create_strategy("ema_cross", {"fast": 12, "slow": 26})
        result = run_backtest(candles, strategy, _config())  # type: ignore[arg-type]
        best = min(best, result.engine_seconds)
        trades = result.trades
        orders = len(result.fills)  # market orders: one fill each
    return best, trades, orders


def streaming_seconds(n: int) -> float:
    """Engine time of the plain-Python bar-by-bar strategy on the first ``n`` candles."""
    from aegis.backtest import run_backtest
    from benchmarks.streaming_strategy import StreamingEmaCross

    candles = load().slice(0, n)
    result = run_backtest(candles, StreamingEmaCross(fast=12, slow=26), _config())  # type: ignore[arg-type]
    return result.engine_seconds


def process_run(path: Path) -> tuple[float, int]:
    """Wall-clock seconds and peak RSS (bytes) of a whole `aegis backtest` process."""
    aegis = Path(sys.executable).with_name("aegis")
    command = [
        str(aegis), "backtest", "--data", str(path), "--strategy", "ema_cross",
        "--param", "fast=12", "--param", "slow=26", "--size", "0.001", "--fee-bps", "10",
        "--cash", "100000", "--json",
    ]  # fmt: skip
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"aegis backtest failed ({completed.returncode}): {completed.stderr}")
    # ru_maxrss of waited-for children, in KiB on Linux; this is the only child so far
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return seconds, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="engine runs (best is kept)")
    parser.add_argument(
        "--streaming-candles", type=int, default=CANDLES, help="candles for the streaming run"
    )
    args = parser.parse_args(argv)
    path = bench_file()
    # the process run goes first, so that RUSAGE_CHILDREN sees only that child
    process_s, peak_rss = process_run(path)
    engine_s, trades, orders = engine_seconds(args.repeat)
    floor_s = model_floor.floor_seconds(orders, args.repeat)
    stream_n = min(args.streaming_candles, CANDLES)
    stream_s = streaming_seconds(stream_n)
    figures = {
        "candles": CANDLES,
        "trades": trades,
        "engine_seconds": round(engine_s, 4),
        "candles_per_second": round(CANDLES / engine_s),
        "process_seconds": round(process_s, 3),
        "peak_rss_bytes_per_candle": round(peak_rss / CANDLES, 1),
        "streaming_candles": stream_n,
        "streaming_candles_per_second": round(stream_n / stream_s),
        # the ceiling the Decimal order objects alone put on the engine here (model_floor.py)
        "orders": orders,
        "model_floor_seconds": round(floor_s, 4),
        "model_floor_candles_per_second": round(CANDLES / floor_s),
        "cpu_count": os.cpu_count(),
    }
    checks = [
        ("engine throughput (candles/s)", figures["candles_per_second"], ">=",
         TARGET_CANDLES_PER_SECOND),
        ("whole process (s)", figures["process_seconds"], "<", TARGET_PROCESS_SECONDS),
        ("peak RSS (bytes/candle)", figures["peak_rss_bytes_per_candle"], "<",
         TARGET_RSS_BYTES_PER_CANDLE),
        ("streaming strategy (candles/s)", figures["streaming_candles_per_second"], ">=",
         TARGET_STREAMING_CANDLES_PER_SECOND),
    ]  # fmt: skip
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / "backtest.json").write_text(json.dumps(figures, indent=2) + "\n")
    failed = _print_table(figures, checks)
    # issues 3 and 4 §7: the live runtime and durability benches, each with its own JSON
    from benchmarks import durability, live

    failed |= live.report(live.run())
    failed |= durability.report(durability.run(2_000))
    return 1 if failed else 0


def _print_table(figures: dict[str, object], checks: list[tuple[str, object, str, float]]) -> bool:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"aegis backtest benchmark ({figures['candles']:,} 1m candles, ema_cross 12/26)"
    )
    for column in ("measure", "value", "target", "ok"):
        table.add_column(column)
    failed = False
    for label, value, relation, target in checks:
        number = float(value)  # type: ignore[arg-type]
        ok = number >= target if relation == ">=" else number < target
        failed |= not ok
        table.add_row(label, f"{number:,.3f}" if number < 100 else f"{number:,.0f}",
                      f"{relation} {target:,}", "yes" if ok else "[red]NO[/red]")  # fmt: skip
    Console().print(table)
    print(
        f"model floor: {figures['orders']:,} order lifecycles through the Decimal order objects "
        f"alone take {figures['model_floor_seconds']} s here, a ceiling of "
        f"{figures['model_floor_candles_per_second']:,} candles/s for any engine that uses them"
    )
    print(f"entry fills: {figures['trades']}; figures written to {BENCH_DIR / 'backtest.json'}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
