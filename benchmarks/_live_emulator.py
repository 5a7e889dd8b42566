"""An ``EmulatorServer`` that timestamps what the live bench measures, from outside ``src``.

- ``TimedHub`` (the websocket hub) records, per symbol id, the ``perf_counter`` time at which
  each closed kline frame is handed to the socket, and its candle open time.
- ``TimedEmulator`` records the ``perf_counter`` time at which every ``POST /fapi/v1/order``
  reaches the emulator's request handler, with its ``symbol`` parameter.

Both clocks are the same process's ``perf_counter``, so latency = arrival - publish.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from aiohttp import web

from aegis.venues.emulator.config import EmulatorConfig
from aegis.venues.emulator.faults import FaultState
from aegis.venues.emulator.server import EmulatorServer
from aegis.venues.emulator.ws import _CLOSE, Connection, WebsocketHub

ORDER_PATH = "/fapi/v1/order"


class TimedHub(WebsocketHub):
    """The emulator's websocket hub, recording the send time of every closed kline."""

    def __init__(self, faults: FaultState) -> None:
        super().__init__(faults)
        self.kline_sent: dict[str, list[float]] = defaultdict(list)
        self.kline_opens: dict[str, list[int]] = defaultdict(list)

    async def _write(self, conn: Connection) -> None:
        # The hub's writer loop, plus a timestamp taken right before a closed kline leaves.
        while True:
            item = await conn.queue.get()
            if item is _CLOSE:
                await conn.socket.close()
                return
            text = json.dumps(item, separators=(",", ":"))
            kline = item.get("k") if isinstance(item, dict) else None
            if isinstance(kline, dict) and kline.get("x") is True:
                symbol = str(item["s"])
                self.kline_sent[symbol].append(time.perf_counter())
                self.kline_opens[symbol].append(int(kline["t"]))
            await conn.socket.send_str(text)
            self.frames_sent += 1

    def subscribed_klines(self) -> set[str]:
        """Return every kline stream some market socket is subscribed to."""
        streams: set[str] = set()
        for conn in self.connections:
            if conn.listen_key is None:
                streams.update(s for s in conn.streams if "@kline_" in s)
        return streams


class TimedEmulator(EmulatorServer):
    """``EmulatorServer`` with a ``TimedHub`` and the arrival time of every order placement."""

    def __init__(self, config: EmulatorConfig) -> None:
        super().__init__(config)
        self.hub = TimedHub(self.faults)
        self.order_arrivals: list[tuple[str, float]] = []

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST" or request.path != ORDER_PATH:
            return await super()._dispatch(request)
        arrived = time.perf_counter()
        response = await super()._dispatch(request)
        # ccxt signs POST parameters into the body; the handler has read it and aiohttp keeps
        # it, so reading it again here costs nothing and leaves the handler's input untouched
        params = parse_qs(await request.text()) or parse_qs(request.rel_url.raw_query_string)
        self.order_arrivals.append((params.get("symbol", ["?"])[0], arrived))
        return response

    @property
    def timed_hub(self) -> TimedHub:
        """The hub, typed."""
        hub = self.hub
        if not isinstance(hub, TimedHub):
            raise TypeError(f"hub replaced by {hub!r}")
        return hub


def write_synthetic_files(directory: Path, count: int, candles: int) -> list[Path]:
    """Write ``count`` gap-free 1m USD-M files ``bench_BNnnn-USDT-PERP_1m.csv`` once.

    Each is a seeded random walk (``benchmarks.data.generate``, seed = index); the names are
    unknown to the metadata snapshot, so the emulator gives each the filters of a real USDT
    perpetual whose tick fits its prices.
    """
    from benchmarks.data import generate

    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for index in range(count):
        path = directory / f"bench_BN{index:03d}-USDT-PERP_1m.csv"
        paths.append(path)
        if path.exists():
            continue
        c = generate(candles, seed=index + 1)
        high = np.maximum.reduce([c.high, c.open, c.close])
        low = np.minimum.reduce([c.low, c.open, c.close])
        rows = ["timestamp_ms,open,high,low,close,volume"]
        rows.extend(
            f"{int(t)},{o:.2f},{h:.2f},{lo:.2f},{cl:.2f},{v:.6f}"
            for t, o, h, lo, cl, v in zip(
                c.ts_ms.tolist(), c.open.tolist(), high.tolist(), low.tolist(),
                c.close.tolist(), c.volume.tolist(), strict=True,
            )
        )  # fmt: skip
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(rows) + "\n")
        tmp.replace(path)
    return paths


def unified(path: Path) -> str:
    """Return the unified symbol of a ``bench_BNnnn-USDT-PERP_1m.csv`` file."""
    base = path.name.split("_")[1].split("-")[0]
    return f"{base}/USDT:USDT"


def summary(server: TimedEmulator) -> dict[str, Any]:
    """Counters worth keeping next to the figures."""
    stats = server.stats()
    return {k: stats[k] for k in ("unhandled_count", "candles_published", "ws_frames_sent")}
