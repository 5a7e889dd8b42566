"""Runtime support: supervision and credential redaction (the sequence lives in the store)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import structlog

from aegis.engine.logs import REDACTED, Redactor, configure_logging
from aegis.engine.supervisor import Supervisor


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
