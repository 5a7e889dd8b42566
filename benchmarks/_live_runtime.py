"""The runtime process of the live bench: ``aegis run --mode live`` against an emulator URL.

It is ``RunSession`` as ``aegis run`` builds it (feed -> strategy -> pipeline -> ccxt ->
emulator, logging to the data directory), with one bench-only strategy registered first:
``bench_flip`` trades every ``every``-th candle of a symbol, alternately entering and leaving a
long, so nearly every such candle produces one order. SIGTERM stops it gracefully; it then
writes ``--out`` (the candle open times each symbol processed, decisions, orders).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import zlib
from pathlib import Path
from typing import ClassVar

from aegis.model.candle import Candle
from aegis.model.signals import Action, Decision
from aegis.strategies import Param, Strategy, register_strategy


@register_strategy
class BenchFlip(Strategy):
    """Enter a long on one trading candle, leave it on the next (bench only).

    ``every`` spaces the trading candles; with ``spread`` each symbol gets its own phase (from
    its name), so many symbols do not all trade on the same candle.
    """

    name: ClassVar[str] = "bench_flip"
    parameters: ClassVar = {
        "every": Param(2, minimum=1, description="trade on every n-th candle"),
        "spread": Param(0, minimum=0, description="1 = a phase per symbol"),
    }

    def _configure(self) -> None:
        self.every = self._int("every")
        self.spread = self._int("spread")

    def _reset(self) -> None:
        self._count = 0
        self._long = False

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        phase = zlib.crc32(symbol.encode()) % self.every if self.spread else 0
        self._count += 1
        if (self._count + phase) % self.every:
            return Decision(symbol, candle.ts_ms, Action.HOLD, 0.0, "not a trading bar", self.name)
        self._long = not self._long
        action = Action.ENTER_LONG if self._long else Action.EXIT_LONG
        return Decision(symbol, candle.ts_ms, action, 1.0, "bench flip", self.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--symbols", required=True, help="comma list of unified symbols")
    parser.add_argument("--speed", required=True)
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--spread", type=int, default=0)
    parser.add_argument("--size", default="0.01")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--trace", type=Path, help="write per-candle stage times (perf_counter)")
    args = parser.parse_args(argv)
    stages: dict[str, list[tuple[str, float]]] | None = None
    if args.trace is not None:
        stages = _install_trace()

    from aegis.config import Settings
    from aegis.engine.logs import configure_logging
    from aegis.engine.session import RunSession

    # nested sections validated from dicts, as from TOML
    settings = Settings.model_validate(
        {
            "mode": "live",
            "data_dir": args.data_dir,
            "exchange": {
                "name": "emulator",
                "url": args.url,
                "api_key": args.key,
                "api_secret": args.secret,
            },
            "market": {"symbols": args.symbols.split(","), "timeframe": "1m", "speed": args.speed},
            "strategy": {
                "name": "bench_flip",
                "params": {"every": args.every, "spread": args.spread},
            },
            "sizing": {"quantity": args.size},
            "server": {"port": 0},
            "runtime": {"warmup_candles": args.warmup, "shutdown_timeout_s": 5.0},
            # bench_flip loses its fees on every round trip: the default cooldown after 3
            # losses and the loss limits would stop it; every symbol may hold its position
            "risk": {
                "cooldown_losses": 1_000_000,
                "daily_loss_limit": "1",
                "max_drawdown": "1",
                "max_open_positions": 1_000,
                "max_total_exposure": "1000",
            },
        }
    )
    configure_logging(settings.data_dir)
    result = asyncio.run(RunSession(settings).run())
    runtime = result.runtime
    processed = {s: record.ts_ms for s, record in runtime.record.symbols.items()}
    out = {
        "processed": processed,
        "decisions": runtime.record.decisions_taken,
        "orders": len(runtime.pipeline.order_manager.orders),
        "stop_reason": result.stop_reason,
        "last_thoughts": [t.thought for t in runtime.pipeline.order_manager.thoughts[-3:]],
        "order_statuses": [str(o.status) for o in runtime.pipeline.order_manager.orders.values()],
        "task_failures": result.task_failures,
    }
    args.out.write_text(json.dumps(out) + "\n")
    if args.trace is not None and stages is not None:
        args.trace.write_text(json.dumps(stages) + "\n")
    return 0


def _install_trace() -> dict[str, list[tuple[str, float]]]:
    """Stamp, with the machine-wide monotonic ``perf_counter``, each stage of a candle's way.

    Keys: ``kline`` (ccxt.pro handles a closed kline; key symbol id:open ms), ``candle`` (the
    runtime's ``on_candle`` starts; unified symbol:open ms), ``intent_begin`` / ``intent_end``
    (the reservation and intent transaction inside it), ``prepared`` (risk, order and the
    intent committed), ``fetch`` (ccxt starts the HTTP request of an order placement). The
    bench process pairs them with the emulator's publish and arrival times (same clock).
    """
    import contextlib
    import time

    from ccxt.async_support import Exchange as AsyncExchange
    from ccxt.pro import binance as ProBinance

    from aegis.engine.journal import DurableJournal
    from aegis.engine.runtime import TradingRuntime

    names = ("kline", "candle", "intent_begin", "intent_end", "prepared", "fetch")
    stages: dict[str, list[tuple[str, float]]] = {name: [] for name in names}
    handle_ohlcv = ProBinance.handle_ohlcv

    def traced_ohlcv(self, client, message):  # type: ignore[no-untyped-def]
        kline = message.get("k") if isinstance(message, dict) else None
        if isinstance(kline, dict) and kline.get("x"):
            stages["kline"].append((f"{message.get('s')}:{kline.get('t')}", time.perf_counter()))
        return handle_ohlcv(self, client, message)

    ProBinance.handle_ohlcv = traced_ohlcv
    on_candle = TradingRuntime.on_candle

    async def traced_candle(self, symbol, candle):  # type: ignore[no-untyped-def]
        stages["candle"].append((f"{symbol}:{candle.ts_ms}", time.perf_counter()))
        await on_candle(self, symbol, candle)

    TradingRuntime.on_candle = traced_candle  # type: ignore[method-assign]
    prepare = TradingRuntime.prepare

    intent: dict[str, float] = {}  # the stamps of the transaction inside the current prepare

    def traced_prepare(self, decision, reference_price, ts_ns):  # type: ignore[no-untyped-def]
        intent.clear()
        order = prepare(self, decision, reference_price, ts_ns)
        key = f"{decision.symbol}:{decision.ts_ms}"
        if "begin" in intent and "end" in intent:
            stages["intent_begin"].append((key, intent["begin"]))
            stages["intent_end"].append((key, intent["end"]))
        stages["prepared"].append((key, time.perf_counter()))
        return order

    TradingRuntime.prepare = traced_prepare  # type: ignore[method-assign]
    intent_batch = DurableJournal.intent_batch

    @contextlib.contextmanager
    def traced_intent_batch(self):  # type: ignore[no-untyped-def]
        intent["begin"] = time.perf_counter()
        with intent_batch(self):
            yield
        intent["end"] = time.perf_counter()

    DurableJournal.intent_batch = traced_intent_batch  # type: ignore[method-assign]
    fetch = AsyncExchange.fetch

    async def traced_fetch(self, url, method="GET", headers=None, body=None):  # type: ignore[no-untyped-def]
        if method == "POST" and str(url).split("?")[0].endswith("/fapi/v1/order"):
            stages["fetch"].append((str(url), time.perf_counter()))
        return await fetch(self, url, method, headers, body)

    AsyncExchange.fetch = traced_fetch
    return stages


if __name__ == "__main__":
    sys.exit(main())
