"""`python -m benchmarks.live`: the live runtime's performance bar (issue 3, §7).

Three bounded runs, each an in-process ``TimedEmulator`` (aiohttp, this process) and one
``aegis run --mode live`` runtime in a child process (``benchmarks._live_runtime``) trading
through ccxt against it on loopback:

- ``latency_1``: one symbol; decision latency = closed kline handed to the websocket ->
  the resulting ``POST /fapi/v1/order`` at the emulator, both stamped in the emulator process.
- ``latency_50``: the same with 50 symbols followed (each trades on its own candles).
- ``follow_200``: 200 symbols' 1m candles at 60x; every kline published while the runtime is
  subscribed must be processed by it (``missed_candles``); CPU of the runtime process from
  ``/proc/<pid>/stat`` over the window.

Writes build/bench/live.json, prints a table, exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks._live_emulator import (
    TimedEmulator,
    summary,
    unified,
    write_synthetic_files,
)
from benchmarks._live_stats import match_orders, missed_candles, percentile, process_cpu_seconds
from benchmarks.data import BENCH_DIR

TARGET_P50_MS = 2.0
TARGET_P99_MS = 10.0
TARGET_SYMBOLS = 200
KEY, SECRET = "bench-key", "bench-secret"
HISTORY = 30
FILE_CANDLES = 2_000
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """One bounded run: symbols, replay speed (history s per wall s), window, trading cadence."""

    name: str
    symbols: int
    speed: float
    seconds: float
    every: int
    spread: int
    client: str = "benchmarks._live_runtime"
    client_args: tuple[str, ...] = ()


SCENARIOS = (
    # 20 one-minute candles per second; an order on every other candle (10 orders/s, half the
    # ccxt client's own rate limit of binanceusdm, so its throttle never queues an order)
    Scenario("latency_1", 1, 1200.0, 15.0, 2, 0),
    # 50 symbols x 5 candles/s = 250 klines/s; each symbol trades on every 25th of its candles,
    # phases spread: ~2 orders per step, 10 orders/s
    Scenario("latency_50", 50, 300.0, 12.0, 25, 1),
    # issue 3: 200 symbols, 1m candles at 60x (200 klines/s); a few orders per second
    Scenario("follow_200", 200, 60.0, 20.0, 100, 1),
    # latency_1 again, with bare ccxt.pro in place of the runtime: the floor under its figure
    Scenario("floor_1", 1, 1200.0, 15.0, 2, 0, client="benchmarks._live_floor"),
    # the same with the least OR2 asks: one synced SQLite row per order, committed before it
    Scenario(
        "floor_durable_1",
        1,
        1200.0,
        15.0,
        2,
        0,
        client="benchmarks._live_floor",
        client_args=("--durable-intent",),
    ),
)


async def _wait_ready(server: TimedEmulator, count: int, child: Any, timeout_s: float) -> float:
    """Wait until ``count`` kline streams and a user stream are subscribed; return the time."""
    hub = server.timed_hub
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        users = sum(1 for c in hub.connections if c.listen_key is not None)
        if len(hub.subscribed_klines()) >= count and users:
            return time.perf_counter()
        if child.returncode is not None:
            raise SystemExit(f"runtime exited early with {child.returncode}")
        await asyncio.sleep(0.05)
    raise SystemExit(f"runtime not subscribed to {count} kline streams within {timeout_s} s")


async def run_scenario(
    scenario: Scenario, files: list[Path], workdir: Path, *, trace: bool = False
) -> dict[str, Any]:
    """Run one scenario and return its figures (``trace``: with the stage breakdown)."""
    from aegis.venues.emulator import AccountSpec, EmulatorConfig

    chosen = files[: scenario.symbols]
    config = EmulatorConfig(
        data_files=tuple(chosen),
        accounts=(AccountSpec(KEY, SECRET, balance=Decimal(10_000_000)),),
        speed=scenario.speed,
        history_candles=HISTORY,
    )
    server = TimedEmulator(config)
    url = await server.start()
    run_dir = workdir / scenario.name
    shutil.rmtree(run_dir, ignore_errors=True)  # a fresh sequence file and log per run
    run_dir.mkdir(parents=True)
    out = run_dir / "runtime.json"
    out.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", scenario.client, "--url", url, "--key", KEY,
        "--secret", SECRET, "--symbols", ",".join(unified(p) for p in chosen),
        "--speed", str(scenario.speed), "--every", str(scenario.every),
        "--spread", str(scenario.spread), "--data-dir", str(run_dir / "data"), "--out", str(out),
        *scenario.client_args,
    ]  # fmt: skip
    trace_file = run_dir / "trace.json"
    if trace and scenario.client == "benchmarks._live_runtime":
        command += ["--trace", str(trace_file)]
    with (run_dir / "stderr.txt").open("w") as stderr:
        child = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=stderr
        )
        try:
            figures = await _measure(server, child, scenario)
        finally:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                child.kill()
                await child.wait()
            await server.stop()
    if not out.exists():
        raise SystemExit(f"{scenario.name}: runtime wrote no result; see {run_dir}/stderr.txt")
    result = json.loads(out.read_text())
    found = _figures(server, scenario, figures, result)
    if trace_file.exists() and trace:
        found["trace"] = _trace(server, figures, json.loads(trace_file.read_text()), result)
    return found


def _trace(
    server: TimedEmulator, window: dict[str, Any], stages: dict[str, Any], result: dict[str, Any]
) -> dict[str, Any]:
    from benchmarks._live_trace import breakdown, summarise

    hub = server.timed_hub
    arrivals = [(s, t) for s, t in server.order_arrivals if window["ready"] <= t <= window["end"]]
    unified_names = {unified_id(s): s for s in result["processed"]}
    return summarise(breakdown(hub.kline_sent, hub.kline_opens, arrivals, stages, unified_names))


async def _measure(server: TimedEmulator, child: Any, scenario: Scenario) -> dict[str, Any]:
    ready = await _wait_ready(server, scenario.symbols, child, READY_TIMEOUT_S)
    cpu_start = process_cpu_seconds(child.pid)
    await asyncio.sleep(scenario.seconds)
    end = time.perf_counter()
    cpu_end = process_cpu_seconds(child.pid)
    # let the runtime finish the candles of the window before it is asked to stop
    await asyncio.sleep(1.0)
    return {"ready": ready, "end": end, "cpu_s": cpu_end - cpu_start, "wall_s": end - ready}


def _figures(
    server: TimedEmulator, scenario: Scenario, window: dict[str, Any], result: dict[str, Any]
) -> dict[str, Any]:
    hub = server.timed_hub
    ready, end = window["ready"], window["end"]
    in_window = [(s, t) for s, t in server.order_arrivals if ready <= t <= end]
    matched = match_orders(hub.kline_sent, in_window)
    latencies_ms = [x * 1000 for x in matched.latencies_s]
    published: dict[str, list[int]] = {}
    for symbol, times in hub.kline_sent.items():
        opens = hub.kline_opens[symbol]
        published[symbol] = [o for o, t in zip(opens, times, strict=True) if ready <= t <= end]
    ids = {unified_id(s): s for s in result["processed"]}
    processed = {sid: result["processed"][u] for sid, u in ids.items()}
    missed = missed_candles(published, processed)
    p50, p99 = percentile(latencies_ms, 50), percentile(latencies_ms, 99)
    return {
        "symbols": scenario.symbols,
        "speed": scenario.speed,
        "window_s": round(window["wall_s"], 2),
        "candles_published": sum(len(v) for v in published.values()),
        "missed_candles": sum(missed.values()),
        "orders": len(in_window),
        "latency_samples": len(latencies_ms),
        "latency_ambiguous": matched.ambiguous,
        "latency_p50_ms": None if p50 is None else round(p50, 3),
        "latency_p99_ms": None if p99 is None else round(p99, 3),
        "latency_max_ms": round(max(latencies_ms), 3) if latencies_ms else None,
        "cpu_seconds": round(window["cpu_s"], 2),
        "cpu_percent": round(100 * window["cpu_s"] / window["wall_s"], 1),
        "runtime_task_failures": result["task_failures"],
        # the durable floor's own count of committed intent rows (None for the other clients)
        "intents_committed": result.get("intents"),
        "emulator": summary(server),
    }


def unified_id(symbol: str) -> str:
    """Return the Binance id of a unified USD-M symbol (``BN001/USDT:USDT`` -> ``BN001USDT``)."""
    return symbol.split(":")[0].replace("/", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=[s.name for s in SCENARIOS], action="append")
    parser.add_argument(
        "--trace", action="store_true", help="add each runtime stage's time per order (slower)"
    )
    args = parser.parse_args(argv)
    figures = run(args.only, trace=args.trace)
    return 1 if report(figures) else 0


def run(only: list[str] | None = None, *, trace: bool = False) -> dict[str, Any]:
    """Run the scenarios (all, or ``only``), write build/bench/live.json, return the figures."""
    workdir = BENCH_DIR / "live"
    files = write_synthetic_files(workdir / "data", TARGET_SYMBOLS, FILE_CANDLES)
    runs: dict[str, Any] = {}
    for scenario in SCENARIOS:
        if only and scenario.name not in only:
            continue
        runs[scenario.name] = asyncio.run(run_scenario(scenario, files, workdir, trace=trace))
    one, fifty, follow, floor, durable_floor = (
        runs.get(n, {})
        for n in ("latency_1", "latency_50", "follow_200", "floor_1", "floor_durable_1")
    )
    figures = {
        "latency_p50_ms": one.get("latency_p50_ms"),
        "latency_p99_ms": one.get("latency_p99_ms"),
        "latency_p50_ms_50_symbols": fifty.get("latency_p50_ms"),
        "latency_p99_ms_50_symbols": fifty.get("latency_p99_ms"),
        "symbols_followed": follow.get("symbols"),
        "missed_candles": follow.get("missed_candles"),
        "cpu_percent": follow.get("cpu_percent"),
        "floor_latency_p50_ms": floor.get("latency_p50_ms"),
        "floor_latency_p99_ms": floor.get("latency_p99_ms"),
        "floor_durable_latency_p50_ms": durable_floor.get("latency_p50_ms"),
        "floor_durable_latency_p99_ms": durable_floor.get("latency_p99_ms"),
        "cpu_count": os.cpu_count(),
        "runs": runs,
    }
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / "live.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def checks(figures: dict[str, Any]) -> list[tuple[str, Any, str, float]]:
    """The issue's targets as (label, value, relation, target); a missing value fails."""
    return [
        ("decision latency p50, 1 symbol (ms)", figures["latency_p50_ms"], "<", TARGET_P50_MS),
        ("decision latency p99, 1 symbol (ms)", figures["latency_p99_ms"], "<", TARGET_P99_MS),
        ("symbols followed at 60x", figures["symbols_followed"], ">=", TARGET_SYMBOLS),
        ("missed candles", figures["missed_candles"], "<", 1),
    ]


def report(figures: dict[str, Any]) -> bool:
    """Print the table; return True when a target is missed."""
    failed = False
    print(f"{'live runtime (issue 3)':44} {'value':>10} {'target':>10}  ok")
    for label, value, relation, target in checks(figures):
        ok = value is not None and (value >= target if relation == ">=" else value < target)
        failed |= not ok
        shown = "n/a" if value is None else f"{value:,}"
        print(f"{label:44} {shown:>10} {relation + ' ' + str(target):>10}  {'yes' if ok else 'NO'}")
    reported = (
        ("decision latency p50, 50 symbols (ms)", "latency_p50_ms_50_symbols"),
        ("decision latency p99, 50 symbols (ms)", "latency_p99_ms_50_symbols"),
        ("runtime CPU, 200 symbols at 60x (%)", "cpu_percent"),
        ("floor: bare ccxt p50, 1 symbol (ms)", "floor_latency_p50_ms"),
        ("floor: bare ccxt p99, 1 symbol (ms)", "floor_latency_p99_ms"),
        ("floor + synced intent row p50 (ms)", "floor_durable_latency_p50_ms"),
        ("floor + synced intent row p99 (ms)", "floor_durable_latency_p99_ms"),
    )
    for label, key in reported:
        print(f"{label:44} {figures[key]!s:>10} {'report':>10}")
    print(f"figures written to {BENCH_DIR / 'live.json'}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
