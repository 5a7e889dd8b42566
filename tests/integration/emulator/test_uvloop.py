"""The emulator also serves on uvloop, whose listening server is no ``asyncio.Server``.

The live bench runs its in-process emulator on uvloop (the emulator's own event-loop cost is
not the runtime's decision latency); ``start`` reads the bound port from any server that has
``sockets``, and the REST and websocket paths answer there as on asyncio's loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp
import pytest

from aegis.venues.emulator import EmulatorConfig
from aegis.venues.emulator.server import EmulatorServer

uvloop = pytest.importorskip("uvloop")
pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def _exercise(config: EmulatorConfig) -> tuple[int, dict[str, object], str]:
    server = EmulatorServer(config)
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/fapi/v1/time") as response:
                status, body = response.status, await response.json()
            ws_url = url.replace("http://", "ws://") + "/market/ws"
            async with session.ws_connect(ws_url) as socket:
                await socket.send_str(json.dumps({"method": "SUBSCRIBE", "params": [], "id": 7}))
                answer = await asyncio.wait_for(socket.receive_str(), 10)
        return status, body, answer
    finally:
        await server.stop()


def test_the_emulator_serves_rest_and_websockets_on_uvloop(
    make_config: Callable[..., EmulatorConfig],
) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        status, body, answer = runner.run(_exercise(make_config()))
    assert status == 200
    assert isinstance(body.get("serverTime"), int)
    assert json.loads(answer) == {"result": None, "id": 7}
