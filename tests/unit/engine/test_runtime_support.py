"""Runtime support: supervision, credential redaction, the persisted client-order sequence."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
import structlog

from aegis.engine.logs import REDACTED, Redactor, configure_logging
from aegis.engine.sequence import SequenceFile
from aegis.engine.supervisor import Supervisor
from aegis.model.errors import ConfigError
from aegis.model.ids import client_order_id


async def test_failed_critical_task_is_counted_and_stops_the_runtime() -> None:
    supervisor = Supervisor()

    async def broken() -> None:
        raise ValueError("bug")

    supervisor.start("broken", broken())
    await asyncio.wait_for(supervisor.stop_requested.wait(), 5)
    assert supervisor.failures["broken"] == 1
    assert supervisor.stop_reason == "task broken failed"


async def test_non_critical_failure_does_not_stop_and_cancel_all_ends_tasks() -> None:
    supervisor = Supervisor()
    forever = asyncio.Event()

    async def broken() -> None:
        raise ValueError("view bug")

    supervisor.start("view", broken(), critical=False)
    supervisor.start("loop", forever.wait())
    for _ in range(5):
        await asyncio.sleep(0)
    assert supervisor.failures["view"] == 1
    assert not supervisor.stop_requested.is_set()
    await supervisor.cancel_all()
    assert supervisor.names == []


def test_redactor_hides_fields_by_name_and_secret_values_anywhere() -> None:
    redactor = Redactor(["s3cr3t-value"])
    event = redactor(None, "info", {"api_secret": "x", "error": "bad sig s3cr3t-value", "n": 1})
    assert event == {"api_secret": REDACTED, "error": f"bad sig {REDACTED}", "n": 1}


def test_log_file_is_json_and_never_contains_the_secret(tmp_path: Path) -> None:
    path = configure_logging(tmp_path, secrets=["topsecretvalue"], console_level=logging.CRITICAL)
    structlog.get_logger("t").info("venue_error", detail="key=topsecretvalue", api_key="abc")
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[-1]["event"] == "venue_error"
    assert "topsecretvalue" not in path.read_text(encoding="utf-8")
    assert lines[-1]["api_key"] == REDACTED


def test_sequence_file_survives_restarts(tmp_path: Path) -> None:
    sequence = SequenceFile(tmp_path / "state" / "bot.sequence")
    assert sequence.read() == 1
    from aegis.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
    from aegis.model.order import Order

    order = Order(
        client_order_id=client_order_id("bot", 7), bot_id="bot", symbol="A/B", side=OrderSide.BUY,
        type=OrderType.MARKET, quantity=1, price=None, stop_price=None,
        time_in_force=TimeInForce.GTC, reduce_only=False, position_side=None,
        status=OrderStatus.NEW, filled_quantity=0, average_fill_price=None, venue_order_id=None,
        created_ns=0, updated_ns=0, tag="entry",
    )  # fmt: skip
    sequence.intent_writer(order)
    assert SequenceFile(tmp_path / "state" / "bot.sequence").read() == 8


def test_corrupt_sequence_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bot.sequence"
    path.write_text("zero", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bot\.sequence"):
        SequenceFile(path).read()
