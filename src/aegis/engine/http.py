"""``/health``, ``/ready`` and ``/metrics`` of one runtime (API3), served inside its event loop.

FastAPI on ``uvicorn.Server(config).serve()``, run as the supervised ``health-server`` task of
the runtime's own loop: the handlers read the runtime's state directly, without locks or
threads. ``/ready`` answers 503 until every component is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from aegis.config import ServerSettings
from aegis.engine.runtime import TradingRuntime
from aegis.engine.supervisor import Supervisor


def readiness(runtime: TradingRuntime, supervisor: Supervisor) -> dict[str, Any]:
    """Return the per-component readiness (feeds per symbol, user stream, order sync).

    The fill watchdog reports its counters too (``recoveries``: fills the stream had lost).
    """
    now = runtime.clock()
    feeds: dict[str, Any] = {}
    for symbol, health in runtime.feed.snapshot().items():
        age_ms = health.age_ms(now)
        feeds[symbol] = {
            "ready": not health.is_stale,
            "state": str(health.state),
            "stale_reason": None if health.stale_reason is None else str(health.stale_reason),
            "last_candle_ms": health.last_candle_ms,
            "age_s": None if age_ms is None else age_ms / 1000,
            "socket_up": runtime.feed.is_socket_up(symbol),
        }
    stream = runtime.user_stream
    sync = runtime.order_sync
    components = {
        "feeds": feeds,
        "user_stream": {
            "ready": stream.is_connected,
            "reconnects": stream.reconnects,
            "resyncs": stream.resyncs,
            "last_message_ms": stream.last_message_ms,
            "restart_requests": stream.restart_requests,
            "last_resync_reason": stream.last_resync_reason,
        },
        "order_sync": {
            "ready": stream.resyncs > 0 and sync.errors == 0,
            "syncs": sync.syncs + stream.resyncs,
            "errors": sync.errors,
            "open_orders": len(runtime.pipeline.order_manager.open_orders),
        },
        "fill_watchdog": _watchdog(runtime),
        "tasks": {"running": supervisor.names, "failures": dict(supervisor.failures)},
    }
    is_ready = (
        all(f["ready"] for f in feeds.values())
        and components["user_stream"]["ready"]
        and components["order_sync"]["ready"]
        and runtime.is_deciding
    )
    return {"ready": is_ready, "components": components}


def _watchdog(runtime: TradingRuntime) -> dict[str, Any]:
    """The fill watchdog's counters (informative: it never makes the runtime unready)."""
    watchdog = runtime.fill_watchdog
    if watchdog is None:
        return {"ready": True, "enabled": False, "recoveries": 0}
    return {
        "ready": True,
        "enabled": True,
        "interval_s": watchdog.interval_s,
        "checks": watchdog.checks,
        "confirms": watchdog.confirms,
        "recoveries": watchdog.recoveries,
        "errors": watchdog.errors,
        "last_check_ms": watchdog.last_check_ms,
    }


def refresh_metrics(runtime: TradingRuntime, supervisor: Supervisor) -> None:
    """Mirror feed ages, reconnects, orders and task failures into the gauges."""
    metrics = runtime.metrics
    now = runtime.clock()
    for symbol, health in runtime.feed.snapshot().items():
        age_ms = health.age_ms(now)
        metrics.feed_age.labels(symbol=symbol).set(
            float("nan") if age_ms is None else age_ms / 1000
        )
        metrics.feed_stale.labels(symbol=symbol).set(1 if health.is_stale else 0)
        metrics.ws_reconnects.labels(stream=f"candles:{symbol}").set(
            runtime.feed.counters.reconnects[symbol]
        )
    metrics.ws_reconnects.labels(stream="user").set(runtime.user_stream.reconnects)
    metrics.set_orders(runtime.pipeline.order_manager.orders)
    for reason, count in runtime.applier.skipped.items():
        metrics.skipped_updates.labels(reason=reason).set(count)
    for task, count in supervisor.failures.items():
        metrics.task_failures.labels(task=task).set(count)


def build_app(runtime: TradingRuntime, supervisor: Supervisor) -> Any:
    """Return the FastAPI app (``Any``: FastAPI is imported lazily)."""
    from fastapi import FastAPI, Response
    from fastapi.responses import JSONResponse
    from prometheus_client import CONTENT_TYPE_LATEST

    app = FastAPI(title="Aegis runtime", docs_url=None, redoc_url=None, openapi_url=None)
    runtime.metrics.add_refresher(lambda: refresh_metrics(runtime, supervisor))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "deciding": runtime.is_deciding, "tasks": supervisor.names}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        body = readiness(runtime, supervisor)
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app


def _server_class() -> Any:
    import uvicorn

    class NoSignalServer(uvicorn.Server):
        """uvicorn without its signal capture: the runtime owns SIGINT / SIGTERM (OP2)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return NoSignalServer


class HealthServer:
    """uvicorn serving ``build_app`` on ``settings.host:settings.port`` (0 = a free port)."""

    def __init__(
        self, runtime: TradingRuntime, supervisor: Supervisor, settings: ServerSettings
    ) -> None:
        import uvicorn

        _NoSignalServer = _server_class()
        config = uvicorn.Config(
            build_app(runtime, supervisor),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self.server = _NoSignalServer(config)

    async def serve(self) -> None:
        """Serve until cancelled."""
        try:
            await self.server.serve()
        finally:
            self.server.should_exit = True

    async def wait_started(self, timeout_s: float = 10.0) -> str:
        """Wait until listening; return the base URL (with the port picked for port 0)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self.server.started:
            if loop.time() > deadline:
                raise TimeoutError(f"health server not listening within {timeout_s} s")
            await asyncio.sleep(0.01)
        sockets = [s for server in self.server.servers for s in server.sockets]
        host, port = sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"
