"""`aegis status --json`, `aegis orders --json`, `aegis pause` / `resume` on a stored bot."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aegis.cli.app import app
from aegis.model.enums import OrderSide, OrderType, TimeInForce
from aegis.model.order import Order
from aegis.store import Store, sqlite_url

SYMBOL = "XRP/USDT:USDT"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AEGIS_DATABASE_URL", raising=False)
    folder = tmp_path / "data"
    with Store(sqlite_url(folder)) as store:
        store.upgrade()
        store.record_intent(
            "default",
            Order(
                client_order_id="", bot_id="bot1", symbol=SYMBOL, side=OrderSide.BUY,
                type=OrderType.LIMIT, quantity=Decimal(10), price=Decimal("0.5"),
                stop_price=None, time_in_force=TimeInForce.GTC, reduce_only=False,
                position_side=None, created_ns=1, tag="entry",
            ),
        )  # fmt: skip
        store.save_snapshot("default", "bot1", "host:1", {"restored": {"orders": 1}})
    return folder


def test_status_json_lists_bots_open_orders_and_restored_state(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--json", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (bot,) = report["bots"]
    assert bot["bot_id"] == "bot1"
    assert bot["running_pid"] is None
    assert [o["client_order_id"] for o in bot["open_orders"]] == ["bot1.1"]
    assert bot["restored"] == {"orders": 1}
    assert bot["snapshot"]["owner"] == "host:1"


def test_orders_json_shows_backend_client_ids_and_states(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["orders", "--json", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    (order,) = json.loads(result.output)
    assert order["client_order_id"] == "bot1.1"  # issued by the store's sequence (OR6)
    assert order["status"] == "new"


def test_pause_and_resume_without_a_runtime_are_audited_and_queued(data_dir: Path) -> None:
    runner = CliRunner()
    for command in ("pause", "resume"):
        result = runner.invoke(app, [command, "--bot", "bot1", "--actor", "bob", "--json",
                                     "--data-dir", str(data_dir)])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["result"].startswith("queued")
    with Store(sqlite_url(data_dir)) as store:
        audit = store.audit_log("default")
    assert sorted((a.action, a.actor, a.outcome) for a in audit) == [
        ("pause", "bob", "requested"),
        ("resume", "bob", "requested"),
    ]
    status = json.loads(runner.invoke(app, ["status", "--json", "--data-dir",
                                            str(data_dir)]).output)  # fmt: skip
    assert [p["action"] for p in status["pending_controls"]] == ["pause", "resume"]
