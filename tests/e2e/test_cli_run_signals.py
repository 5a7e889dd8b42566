"""`aegis run` paper trading at a numeric speed, stopped by SIGTERM as an operator would (OP2).

The process runs against the in-process emulator replaying the bundled real XRP/USDT perpetual
candles at 600x (a 5 min candle every 0.5 s). The test polls /ready and /metrics with a deadline
until an order was sent, sends SIGTERM, and checks the clean exit: code 0, no open order left
in the summary, every log line written and complete.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

START_DEADLINE_S = 35.0
EXIT_DEADLINE_S = 20.0
POLL_INTERVAL_S = 0.2
_SUBMITTED = re.compile(r"^aegis_orders_submitted_total\{[^}]*\} (\S+)$", re.MULTILINE)


def _free_port() -> int:
    # --json prints nothing before the summary, so the test chooses the health port itself.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local http URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def _orders_submitted(metrics: str) -> float:
    return sum(float(value) for value in _SUBMITTED.findall(metrics))


def _poll(process: subprocess.Popen[str], condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail at the deadline or if the process died."""
    deadline = time.monotonic() + START_DEADLINE_S
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"aegis run exited with {process.returncode} before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {START_DEADLINE_S} s")
        time.sleep(POLL_INTERVAL_S)


@pytest.fixture
def run_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    port = _free_port()
    data_dir = tmp_path / "d"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEGIS_")}
    process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [str(Path(sys.executable).parent / "aegis"), "run", "--mode", "paper",
         "--exchange", "emulator", "--speed", "600", "--data-dir", str(data_dir),
         "--port", str(port), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    try:
        yield process, f"http://127.0.0.1:{port}", data_dir
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_sigterm_stops_a_paper_run_cleanly_after_it_traded(
    run_process: tuple[subprocess.Popen[str], str, Path],
) -> None:
    process, url, data_dir = run_process
    _poll(process, lambda: _get(f"{url}/ready")[0] == 200, "ready answer")
    _poll(process, lambda: _orders_submitted(_get(f"{url}/metrics")[1]) >= 1, "order placed")

    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=EXIT_DEADLINE_S)

    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "exception was never retrieved" not in stderr
    summary = json.loads(stdout)
    run = summary["run"]
    assert run["stop_reason"] == "signal SIGTERM"
    assert run["open_orders_left"] == []
    assert run["orders"] >= 1
    log_file = Path(run["log_file"])
    assert log_file == data_dir / "logs" / "aegis.log"
    text = log_file.read_text(encoding="utf-8")
    assert text.endswith("\n")  # the last line was written whole
    events = [json.loads(line)["event"] for line in text.splitlines()]
    assert "order_submitted" in events
    assert "shutdown_complete" in events
