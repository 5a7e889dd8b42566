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
    args = parser.parse_args(argv)

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
