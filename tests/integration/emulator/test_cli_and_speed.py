"""`aegis emulator` options, the CLI process, and the wall-clock replay speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from aegis.cli.emulator_cmd import build_config
from aegis.data.feeds import VirtualClock
from aegis.model.errors import ConfigError
from aegis.venues.emulator import EmulatorConfig
from aegis.venues.emulator.exchange import EmulatedExchange
from aegis.venues.emulator.server import EmulatorServer

from .helpers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def _options(**overrides: object) -> dict[str, object]:
    options: dict[str, object] = {"port": 0, "data": None, "accounts": None, "balance": "10000",
                                  "speed": "max", "faults": None, "history": 10}  # fmt: skip
    options.update(overrides)
    return options


def test_without_account_a_demo_account_is_created_on_bundled_data() -> None:
    config, is_demo = build_config(**_options())  # type: ignore[arg-type]
    assert is_demo
    assert len(config.accounts) == 1
    assert len(config.accounts[0].secret) == 64
    assert any(p.name.startswith("binance-usdm_XRP") for p in config.data_files)
    assert config.speed is None


def test_bad_options_name_the_option_and_value() -> None:
    with pytest.raises(ConfigError, match="--account 'nosecret'"):
        build_config(**_options(accounts=["nosecret"]))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="--speed 'fast'"):
        build_config(**_options(speed="fast"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="--fault 'http_429'"):
        build_config(**_options(faults=["http_429"]))  # type: ignore[arg-type]
    config, _ = build_config(**_options(faults=["typo=1"]))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown fault 'typo'"):
        EmulatorServer(config)


async def test_fault_flags_reach_the_server() -> None:
    config, _ = build_config(**_options(accounts=["k:s"], faults=["http_429=0.5", "lost_ack=2"]))  # type: ignore[arg-type]
    server = EmulatorServer(config)
    assert server.faults.shares["http_429"] == 0.5
    assert server.faults.lost_ack == 2


async def test_speed_replays_candles_on_the_wall_clock(xrp_file: Path) -> None:
    config, _ = build_config(**_options(data=[xrp_file], speed="6000"))  # type: ignore[arg-type]
    server = EmulatorServer(config)  # 6000x: a 5 min candle every 50 ms
    await server.start()
    try:
        await wait_until(lambda: server.exchange.candles_published >= 3, timeout_s=10)
    finally:
        await server.stop()


def test_wall_clock_replay_counts_from_the_history_cursor(xrp_file: Path) -> None:
    # With 100 candles of history, one interval of replay time closes the 101st candle: the
    # replay clock starts at the cursor, not at the file's first candle.
    exchange = EmulatedExchange(EmulatorConfig(data_files=(xrp_file,), history_candles=100))
    feed = exchange.data.candles[0]
    assert exchange.advance_to(feed.interval_ms - 1) == []
    assert feed.cursor == 100
    exchange.advance_to(feed.interval_ms)
    assert (feed.cursor, exchange.candles_published) == (101, 1)
    exchange.advance_to(3 * feed.interval_ms)
    assert feed.cursor == 103


async def test_speed_publishes_the_first_candle_after_one_interval_of_replay(
    xrp_file: Path,
) -> None:
    clock = VirtualClock()
    config = EmulatorConfig(data_files=(xrp_file,), history_candles=100, speed=60.0)
    server = EmulatorServer(  # 60x: a 5 min candle every 5 (virtual) seconds
        config, replay_clock_s=lambda: clock.now_ms() / 1000, replay_sleep=clock.sleep
    )
    await server.start()
    try:
        feed = server.exchange.data.candles[0]
        await clock.advance(4.9)
        assert (feed.cursor, server.exchange.candles_published) == (100, 0)
        await clock.advance(0.2)
        assert (feed.cursor, server.exchange.candles_published) == (101, 1)
        await clock.advance(5.0)
        assert feed.cursor == 102
    finally:
        await server.stop()


def test_cli_process_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from aegis.cli import main; main()", "emulator", "--port", "0",
         "--speed", "max", "--account", "cli-key:cli-secret"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("emulator listening on http://127.0.0.1:")
        base_url = first.split()[3]
        with urllib.request.urlopen(f"{base_url}/_admin/stats", timeout=5) as response:  # noqa: S310
            assert json.load(response)["unhandled_count"] == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
