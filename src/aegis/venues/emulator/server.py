"""`EmulatorServer`: the aiohttp app serving Binance REST + websockets, faults and admin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from aegis.venues.emulator import admin, errors
from aegis.venues.emulator.auth import authenticate
from aegis.venues.emulator.call import Call
from aegis.venues.emulator.config import AccountSpec, EmulatorConfig
from aegis.venues.emulator.errors import BinanceError
from aegis.venues.emulator.exchange import EmulatedExchange, MarketEvent
from aegis.venues.emulator.faults import FaultState
from aegis.venues.emulator.listen_keys import ListenKeys
from aegis.venues.emulator.markets import MarketKind
from aegis.venues.emulator.routes import ROUTES, Route
from aegis.venues.emulator.ws import WebsocketHub

_SPEED_TICK_S = 0.02


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class EmulatorServer:
    """A Binance USD-M + spot emulator on 127.0.0.1, replaying files, matching with the sim.

    Use ``base_url = await server.start()``, drive the replay with ``server.step()`` (or let
    ``config.speed`` drive it), inject faults with ``server.set_fault(name, value)`` and stop it
    with ``await server.stop()``. ``replay_clock_s`` (monotonic seconds; the loop's clock by
    default) and ``replay_sleep`` pace ``config.speed``: tests pass a virtual clock.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        wall_clock_ms: Callable[[], int] = _wall_ms,
        replay_clock_s: Callable[[], float] | None = None,
        replay_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._replay_clock_s = replay_clock_s
        self._replay_sleep = replay_sleep
        self.exchange = EmulatedExchange(config)
        self.faults = FaultState()
        self.listen_keys = ListenKeys(config.listen_key_ttl_s)
        self.hub = WebsocketHub(self.faults)
        self.wall_clock_ms = wall_clock_ms
        self.requests: Counter[str] = Counter()
        self.unhandled: list[str] = []
        self._pending_drop: int | None = None
        self._pending_expiry: int | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._stopping = asyncio.Event()
        self._speed_task: asyncio.Task[None] | None = None
        self.base_url = ""
        for name, value in config.faults.items():
            self.set_fault(name, str(value))

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> str:
        """Listen on ``config.host:config.port`` (0 = any free port); return the base URL."""
        app = web.Application()
        admin.add_routes(app, self)
        for path in ("/ws", "/ws/{tail}", "/market/ws", "/market/ws/{tail}", "/public/ws",
                     "/public/ws/{tail}", "/private/ws", "/private/ws/{tail}", "/spot/ws",
                     "/spot/ws/{tail}", "/stream", "/stream/{tail}"):  # fmt: skip
            app.router.add_get(path, self._websocket)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._stopping.clear()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await self._site.start()
        # aiohttp keeps the bound server here; its socket tells the port chosen for port 0
        server = self._site._server
        # (asyncio's Server, or uvloop's, which is no asyncio.AbstractServer subclass)
        sockets = getattr(server, "sockets", None)
        if not sockets:
            raise RuntimeError(f"aiohttp site has no bound server: {server!r}")
        port = sockets[0].getsockname()[1]
        self.base_url = f"http://{self.config.host}:{port}"
        if self.config.speed is not None:
            self._speed_task = asyncio.create_task(self._run_speed(), name="emulator-replay")
        return self.base_url

    async def stop(self) -> None:
        """Close every socket and stop listening; hung (timeout-fault) requests end at once."""
        self._stopping.set()
        if self._speed_task is not None:
            self._speed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._speed_task
            self._speed_task = None
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _run_speed(self) -> None:
        speed = self.config.speed or 1.0
        now_s = self._replay_clock_s or asyncio.get_running_loop().time
        started = now_s()
        while not self.exchange.is_exhausted:
            await self._replay_sleep(_SPEED_TICK_S)
            # Replay time counts from each feed's cursor at start, not from its first candle:
            # the history_candles are closed already (advance_to measures from there).
            offset_ms = int((now_s() - started) * speed * 1000)
            self._after_candles(self.exchange.advance_to(offset_ms))

    # ------------------------------------------------------------------ replay API
    def step(self, candles: int = 1) -> int:
        """Close the next ``candles`` candles of every feed, match, push; return events pushed."""
        total = 0
        for _ in range(candles):
            events = self.exchange.step(1)
            total += len(events)
            self._after_candles(events)
        return total

    def _after_candles(self, events: list[MarketEvent]) -> None:
        for kind, stream, payload in events:
            self.hub.publish_market(kind, stream, payload)
        self.flush_user_events()
        self._count_down()

    def _count_down(self) -> None:
        if self._pending_drop is not None:
            self._pending_drop -= 1
            if self._pending_drop <= 0:
                self._pending_drop = None
                self.faults.injected["ws_drop"] += 1
                self.hub.drop_all()
        if self._pending_expiry is not None:
            self._pending_expiry -= 1
            if self._pending_expiry <= 0:
                self._pending_expiry = None
                self.expire_listen_keys()

    def flush_user_events(self) -> None:
        """Push every pending ORDER_TRADE_UPDATE / ACCOUNT_UPDATE / ALGO_UPDATE."""
        for api_key, kind, payload in self.exchange.drain_user_events():
            self.hub.publish_user(api_key, kind, payload)

    def expire_listen_keys(self) -> None:
        """Invalidate every listen key and send ``listenKeyExpired`` on their streams."""
        self.faults.injected["listen_key_expire"] += 1
        self.hub.expire(self.listen_keys.expire_all(), self.wall_clock_ms())

    # ------------------------------------------------------------------ accounts, faults
    def add_account(self, spec: AccountSpec) -> None:
        """Open another isolated account."""
        if spec.api_key in self.exchange.accounts:
            raise ValueError(f"account {spec.api_key[:6]}… already exists")
        self.exchange.add_account(spec)

    def set_fault(self, name: str, value: str) -> None:
        """Set a fault (see `FAULT_NAMES`); raises ConfigError naming a bad name or value."""
        count = self.faults.set(name, value)
        if count is None:
            return
        if name in ("gap", "stream_gap"):
            self.exchange.schedule_gap(count, stream_only=name == "stream_gap")
            self.faults.injected[name] += count
        elif name == "ws_drop":
            if count == 0:
                self.faults.injected["ws_drop"] += 1
                self.hub.drop_all()
            else:
                self._pending_drop = count
        elif name == "listen_key_expire":
            if count == 0:
                self.expire_listen_keys()
            else:
                self._pending_expiry = count

    def stats(self) -> dict[str, Any]:
        """Counters for tests: requests by route, unhandled paths, faults, frames."""
        return {
            "requests": dict(self.requests),
            "unhandled": list(self.unhandled),
            "unhandled_count": len(self.unhandled),
            "candles_published": self.exchange.candles_published,
            "exhausted": self.exchange.is_exhausted,
            "ws_connections": len(self.hub.connections),
            "ws_frames_sent": self.hub.frames_sent,
            "ws_frames_dropped": self.hub.frames_dropped,
            "faults": self.faults.snapshot(),
        }

    # ------------------------------------------------------------------ HTTP
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        route = ROUTES.get((request.method, request.path))
        if route is None:
            self.unhandled.append(f"{request.method} {request.path}")
            return _error_response(errors.unknown_path(request.method, request.path))
        self.requests[f"{route.method} {route.path}"] += 1
        fault = self.faults.draw_http_fault()
        if fault is not None:
            return await self._http_fault(fault)
        raw_body = (await request.text()) if request.can_read_body else ""
        try:
            call = self._call(request, route, raw_body)
            body = route.handler(call)
        except BinanceError as error:
            return _error_response(error)
        finally:
            self.flush_user_events()
        if route.places_order:
            lost = self.faults.take_lost_ack()
            if lost is not None:
                return await self._lose_ack(request, lost)
        return web.json_response(body, dumps=_dumps)

    def _call(self, request: web.Request, route: Route, raw_body: str) -> Call:
        wall = self.wall_clock_ms()
        secrets = {key: a.spec.secret for key, a in self.exchange.accounts.items()}
        raw_query = request.rel_url.raw_query_string
        api_key = authenticate(route.security, request.headers, raw_query, raw_body, secrets, wall)
        from aegis.venues.emulator.auth import parse_params

        return Call(
            exchange=self.exchange,
            kind=route.kind,
            params=parse_params(raw_query, raw_body),
            api_key=api_key,
            wall_ms=wall,
            faults=self.faults,
            listen_keys=self.listen_keys,
        )

    async def _http_fault(self, fault: str) -> web.StreamResponse:
        retry_after = self.faults.retry_after_s
        if fault == "429":
            return _error_response(errors.too_many_requests(retry_after))
        if fault == "418":
            until = self.wall_clock_ms() + retry_after * 1000
            return _error_response(errors.ip_banned(retry_after, until))
        if fault == "5xx":
            return _error_response(errors.internal_error())
        await self._hang()
        return _error_response(errors.internal_error())

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.faults.timeout_s)

    async def _lose_ack(self, request: web.Request, mode: str) -> web.StreamResponse:
        if mode == "drop":
            transport = request.transport
            if transport is not None:
                transport.close()
            return web.Response(status=500)
        if mode == "timeout":
            await self._hang()
        return _error_response(
            BinanceError(
                -1007,
                "Timeout waiting for response from backend server. Send status unknown; "
                "execution status unknown.",
                status=503,
            )
        )

    # ------------------------------------------------------------------ websockets
    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        tail = request.match_info.get("tail", "")
        now_s = self.wall_clock_ms() / 1000
        # ``/stream`` is spot's combined-stream path: ccxt.pro binance reads a socket as spot
        # only when its URL contains "/stream" (``is_spot_url``), and it unwraps the
        # {"stream", "data"} envelope; ``/spot/ws`` serves the same streams unwrapped.
        is_combined = path == "/stream" or path.startswith("/stream/")
        kind: MarketKind = "spot" if is_combined or path.startswith("/spot/") else "usdm"
        key_text = request.query.get("listenKey") if path.startswith("/private/") else None
        if key_text is None and tail and "@" not in tail and not tail.isdigit():
            key_text = tail  # older style: /ws/<listenKey>
        if key_text is not None:
            listen_key = self.listen_keys.lookup(key_text, now_s)
            if listen_key is None:
                self.requests[f"WS {path.split('?')[0]} (expired key)"] += 1
                return _error_response(errors.listen_key_does_not_exist())
            self.requests["WS user"] += 1
            return await self.hub.serve(request, listen_key.kind, listen_key, set())
        if path.startswith("/private/"):
            self.unhandled.append(f"WS {path}")
            return _error_response(errors.mandatory_parameter("listenKey"))
        self.requests["WS market"] += 1
        streams = {tail} if "@" in tail else set()
        # Binance's combined form: /stream?streams=btcusdt@trade/btcusdt@kline_1m
        streams.update(s for s in request.query.get("streams", "").split("/") if s)
        return await self.hub.serve(request, kind, None, streams, is_combined=is_combined)


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def _error_response(error: BinanceError) -> web.Response:
    headers = {}
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(error.retry_after_s)
    return web.json_response(error.body(), status=error.status, headers=headers, dumps=_dumps)
