"""The floor client of the live bench: unmodified ccxt.pro alone, with no Aegis runtime.

It does the least any bot built on ccxt must do to act on a candle: ``watch_ohlcv`` one
symbol (with the runtime's websocket options) and, on every ``every``-th new candle,
``create_order`` a market order (alternately buy and sell), while ``watch_orders`` keeps the
user stream open. No strategy, no risk, no store. The decision latency the bench measures for
this client is therefore what ccxt, the emulator and loopback cost by themselves: the floor
under the runtime's figure. SIGTERM stops it; it then writes ``--out`` in the runtime's format
(``processed``, ``task_failures``).

``--durable-intent`` adds the least that OR2 asks of any bot: before each ``create_order``, the
order's client order id is committed in one row of an SQLite database in ``--data-dir`` with
the store's own settings (WAL, ``synchronous=FULL``: the commit waits for the disk). Still no
strategy, risk or order objects: the floor under a runtime that writes its intent first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any


async def _user_stream(exchange: Any) -> None:
    while True:
        await exchange.watch_orders()


class IntentRows:
    """One synced row per order, committed before the order is sent (the OR2 minimum)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS intents (client_order_id TEXT PRIMARY KEY,"
            " symbol TEXT NOT NULL, side TEXT NOT NULL, quantity TEXT NOT NULL)"
        )

    def commit(self, client_order_id: str, symbol: str, side: str, quantity: str) -> None:
        """Commit one intent row; returns once SQLite has synced the WAL."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "INSERT INTO intents VALUES (?, ?, ?, ?)", (client_order_id, symbol, side, quantity)
            )
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def count(self) -> int:
        """Return how many intents were committed."""
        return int(self._db.execute("SELECT count(*) FROM intents").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._db.close()


async def _trade(
    exchange: Any,
    symbol: str,
    every: int,
    size: str,
    seen: dict[str, list[int]],
    intents: IntentRows | None,
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
        client_order_id = f"floor.{count // every}"
        if intents is not None:
            intents.commit(client_order_id, symbol, side, size)
        await exchange.create_order(
            symbol, "market", side, float(size), None, {"newClientOrderId": client_order_id}
        )
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
    intents = IntentRows(args.data_dir / "floor.db") if args.durable_intent else None
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await exchange.load_markets()
        tasks = [
            asyncio.create_task(_user_stream(exchange)),
            asyncio.create_task(_trade(exchange, symbol, args.every, args.size, seen, intents)),
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
        committed = None
        if intents is not None:
            committed = intents.count()
            intents.close()
    return {"processed": seen, "task_failures": failures, "intents": committed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--symbols", required=True, help="the first symbol is traded")
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--size", default="0.01")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--durable-intent", action="store_true", help="commit a synced intent row per order"
    )
    args, _ = parser.parse_known_args(argv)  # accepts the runtime's other flags
    result = asyncio.run(_run(args))
    args.out.write_text(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
