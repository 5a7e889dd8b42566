"""Websocket streams: market streams with SUBSCRIBE/UNSUBSCRIBE, user-data streams, faults."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from aegis.venues.emulator.faults import FaultState
from aegis.venues.emulator.listen_keys import ListenKey
from aegis.venues.emulator.markets import MarketKind

_CLOSE = object()  # queue sentinel: close the socket after what is queued


@dataclass(eq=False, slots=True)
class Connection:
    """One open websocket: its market, subscriptions or listen key, and its send queue."""

    socket: web.WebSocketResponse
    kind: MarketKind
    listen_key: ListenKey | None = None
    streams: set[str] = field(default_factory=set)
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    # Combined-stream socket (``/stream``): market payloads go out as {"stream", "data"}.
    is_combined: bool = False


class WebsocketHub:
    """Every open websocket; the server pushes market and user events through it."""

    def __init__(self, faults: FaultState) -> None:
        self._faults = faults
        self.connections: set[Connection] = set()
        self.frames_sent = 0
        self.frames_dropped = 0

    # ------------------------------------------------------------- publishing
    def publish_market(self, kind: MarketKind, stream: str, payload: dict[str, Any]) -> None:
        """Queue ``payload`` to every market socket of ``kind`` subscribed to ``stream``."""
        for conn in self.connections:
            if conn.listen_key is None and conn.kind == kind and stream in conn.streams:
                self._send(
                    conn, {"stream": stream, "data": payload} if conn.is_combined else payload
                )

    def publish_user(self, api_key: str, kind: MarketKind, payload: dict[str, Any]) -> None:
        """Queue a user-data event to the account's user streams on ``kind``."""
        for conn in self.connections:
            key = conn.listen_key
            if key is not None and key.api_key == api_key and key.kind == kind:
                self._send(conn, payload)

    def expire(self, keys: list[ListenKey], event_time_ms: int) -> None:
        """Tell each stream of an expired key, then close it (as Binance does)."""
        expired = {k.key for k in keys}
        for conn in self.connections:
            if conn.listen_key is not None and conn.listen_key.key in expired:
                payload = {"e": "listenKeyExpired", "E": event_time_ms,
                           "listenKey": conn.listen_key.key}  # fmt: skip
                conn.queue.put_nowait(payload)  # sent even while stalled: it is the point
                conn.queue.put_nowait(_CLOSE)

    def drop_all(self) -> int:
        """Close every socket (the ws_drop fault); return how many."""
        count = len(self.connections)
        for conn in self.connections:
            conn.queue.put_nowait(_CLOSE)
        return count

    def _send(self, conn: Connection, payload: dict[str, Any]) -> None:
        if self._faults.ws_stall:
            self.frames_dropped += 1
            return
        conn.queue.put_nowait(payload)

    # ------------------------------------------------------------- serving
    async def serve(
        self,
        request: web.Request,
        kind: MarketKind,
        listen_key: ListenKey | None,
        initial_streams: set[str],
        *,
        is_combined: bool = False,
    ) -> web.WebSocketResponse:
        """Run one websocket until the client or the server closes it."""
        socket = web.WebSocketResponse(autoping=False, heartbeat=None)
        await socket.prepare(request)
        conn = Connection(socket, kind, listen_key, set(initial_streams), is_combined=is_combined)
        self.connections.add(conn)
        writer = asyncio.create_task(self._write(conn), name="emulator-ws-writer")
        try:
            async for message in socket:
                if message.type is WSMsgType.TEXT:
                    self._on_text(conn, message.data)
                elif message.type is WSMsgType.PING and not self._faults.ws_stall:
                    await socket.pong(message.data)
        finally:
            self.connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await socket.close()
        return socket

    def _on_text(self, conn: Connection, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            conn.queue.put_nowait({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
            return
        if not isinstance(message, dict):
            return
        method = message.get("method")
        params = message.get("params") or []
        ident = message.get("id")
        if method == "SUBSCRIBE":
            conn.streams.update(str(p) for p in params)
            result: Any = None
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(str(p) for p in params)
            result = None
        elif method == "LIST_SUBSCRIPTIONS":
            result = sorted(conn.streams)
        elif method in ("SET_PROPERTY", "GET_PROPERTY"):
            result = None
        else:
            conn.queue.put_nowait({"error": {"code": 2, "msg": f"Invalid request: {method}"},
                                   "id": ident})  # fmt: skip
            return
        if not self._faults.ws_stall:
            conn.queue.put_nowait({"result": result, "id": ident})

    async def _write(self, conn: Connection) -> None:
        while True:
            item = await conn.queue.get()
            if item is _CLOSE:
                await conn.socket.close()
                return
            await conn.socket.send_str(json.dumps(item, separators=(",", ":")))
            self.frames_sent += 1

    async def close_all(self) -> None:
        """Close every socket now (server stop)."""
        for conn in list(self.connections):
            await conn.socket.close()
