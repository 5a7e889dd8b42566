"""The floor client of the live bench: unmodified ccxt.pro alone, with no Aegis runtime.

It does the least any bot built on ccxt must do to act on a candle: ``watch_ohlcv`` one
symbol (with the runtime's websocket options) and, on every ``every``-th new candle,
``create_order`` a market order (alternately buy and sell), while ``watch_orders`` keeps the
user stream open. No strategy, no risk, no store. The decision latency the bench measures for
this client is therefore what ccxt, the emulator and loopback cost by themselves: the floor
under the runtime's figure. SIGTERM stops it; it then writes ``--out`` in the runtime's format
(``processed``, ``task_failures``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any


async def _user_stream(exchange: Any) -> None:
    while True:
        await exchange.watch_orders()


async def _trade(
    exchange: Any, symbol: str, every: int, size: float, seen: dict[str, list[int]]
) -> None:
    last_open: int | None = None
    count = 0
    side = "buy"
    while True:
        candles = await exchange.watch_ohlcv(symbol, "1m")
        newest = int(candles[-1][0])
        if last_open is not None and newest <= last_open:
            continue
        last_open = newest
        seen.setdefault(symbol, []).append(newest)
        count += 1
        if count % every:
            continue
        await exchange.create_order(symbol, "market", side, size)
        side = "sell" if side == "buy" else "buy"


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    import ccxt.pro

    from aegis.venues.ccxt.profiles import profile_for
    from aegis.venues.emulator.ccxt_config import configure_ccxt

    # the runtime's websocket options (no permessage-deflate): the floor stays the floor of the
    # runtime's own path, not of a slower default
    ws_options = dict(profile_for("binanceusdm").options["ws"])
    exchange = ccxt.pro.binanceusdm(
        {
            "apiKey": args.key,
            "secret": args.secret,
            "enableRateLimit": False,
            "options": {"ws": ws_options},
        }
    )
    configure_ccxt(exchange, args.url)
    symbol = args.symbols.split(",")[0]
    seen: dict[str, list[int]] = {}
    failures: list[str] = []
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await exchange.load_markets()
        tasks = [
            asyncio.create_task(_user_stream(exchange)),
            asyncio.create_task(_trade(exchange, symbol, args.every, float(args.size), seen)),
        ]
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopping and task.exception() is not None:
                failures.append(repr(task.exception()))
        for task in (*tasks, stopping):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    finally:
        await exchange.close()
    return {"processed": seen, "task_failures": failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--symbols", required=True, help="the first symbol is traded")
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--size", default="0.01")
    parser.add_argument("--out", type=Path, required=True)
    args, _ = parser.parse_known_args(argv)  # accepts the runtime's other flags
    result = asyncio.run(_run(args))
    args.out.write_text(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
