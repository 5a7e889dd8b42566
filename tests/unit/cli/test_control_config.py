"""`--config` of `aegis status`, `orders`, `kill`, `pause` and `resume`: the bot's store and venue
are found from its settings file as `aegis run` finds them; flags override the file."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aegis.cli.app import app
from aegis.model import OrderSide, OrderType, TimeInForce
from aegis.model.order import Order
from aegis.store import Store, sqlite_url

SYMBOL = "XRP/USDT:USDT"
TENANT, BOT = "acme", "B"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No AEGIS_ variable of the machine leaks in; ./.aegis is an empty folder of the test."""
    for name in list(os.environ):
        if name.startswith("AEGIS_"):
            monkeypatch.delenv(name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)


def seed_store(data_dir: Path, tenant: str = TENANT) -> None:
    """Store one open limit order of bot B, as a runtime's intent leaves it."""
    with Store(sqlite_url(data_dir)) as store:
        store.upgrade()
        store.record_intent(
            tenant,
            Order(
                client_order_id="", bot_id=BOT, symbol=SYMBOL, side=OrderSide.BUY,
                type=OrderType.LIMIT, quantity=Decimal(10), price=Decimal("0.5"),
                stop_price=None, time_in_force=TimeInForce.GTC, reduce_only=False,
                position_side=None, created_ns=1, tag="entry",
            ),
        )  # fmt: skip


def write_config(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def bot_data(tmp_path: Path) -> Path:
    folder = tmp_path / "bot-data"
    seed_store(folder)
    return folder


@pytest.fixture
def config(tmp_path: Path, bot_data: Path) -> Path:
    return write_config(
        tmp_path / "bot.toml",
        f'mode = "live"\ndata_dir = "{bot_data}"\n[database]\ntenant = "{TENANT}"\n'
        '[exchange]\nname = "binanceusdm"\n',
    )


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def bots_of(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [bot["bot_id"] for bot in json.loads(result.stdout)["bots"]]


# ---------------------------------------------------------------- finding the store


def test_without_config_status_reads_the_default_store_not_the_bots(config: Path) -> None:
    assert bots_of(invoke("status", "--json")) == []  # ./.aegis, tenant default: the gap
    assert bots_of(invoke("status", "--json", "--config", str(config))) == [BOT]


def test_status_and_orders_take_data_dir_and_tenant_from_the_file(
    config: Path, bot_data: Path
) -> None:
    result = invoke("status", "--json", "--config", str(config))
    store = json.loads(result.stdout)["store"]
    assert store == {"config": str(config), "data_dir": str(bot_data), "tenant": TENANT,
                     "database": sqlite_url(bot_data), "mode": "live"}  # fmt: skip
    orders = invoke("orders", "--json", "--config", str(config))
    assert orders.exit_code == 0, orders.output
    assert [o["client_order_id"] for o in json.loads(orders.stdout)] == ["B.1"]


def test_aegis_config_file_works_like_config(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_CONFIG_FILE", str(config))
    result = invoke("status", "--json")
    assert bots_of(result) == [BOT]
    assert json.loads(result.stdout)["store"]["config"] == str(config)


def test_flags_override_the_file(config: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-data"
    seed_store(other, tenant="t2")
    assert bots_of(invoke("status", "--json", "--config", str(config),
                          "--data-dir", str(other))) == []  # fmt: skip  # tenant still acme
    assert bots_of(invoke("status", "--json", "--config", str(config),
                          "--data-dir", str(other), "--tenant", "t2")) == [BOT]  # fmt: skip
    assert bots_of(invoke("status", "--json", "--config", str(config), "--tenant", "t2",
                          "--database-url", sqlite_url(other))) == [BOT]  # fmt: skip


def test_database_url_of_the_file_wins_over_the_data_dir(tmp_path: Path, bot_data: Path) -> None:
    config = write_config(
        tmp_path / "url.toml",
        f'data_dir = "{tmp_path / "unused"}"\n[database]\nurl = "{sqlite_url(bot_data)}"\n'
        f'tenant = "{TENANT}"\n',
    )
    assert bots_of(invoke("status", "--json", "--config", str(config))) == [BOT]


def test_pause_and_resume_are_written_to_the_bots_store(config: Path, bot_data: Path) -> None:
    for command in ("pause", "resume"):
        result = invoke(command, "--config", str(config), "--bot", BOT, "--actor", "bob", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["result"].startswith("queued")
    with Store(sqlite_url(bot_data)) as store:
        audit = sorted((a.action, a.actor, a.outcome) for a in store.audit_log(TENANT))
    assert audit == [("pause", "bob", "requested"), ("resume", "bob", "requested")]


# ---------------------------------------------------------------- errors name file and setting


@pytest.mark.parametrize("command", ["status", "orders", "kill", "pause", "resume"])
def test_an_invalid_setting_names_the_file_the_setting_and_the_value(
    tmp_path: Path, command: str
) -> None:
    config = write_config(tmp_path / "bad.toml", 'mode = "sideways"\n')
    result = invoke(command, "--config", str(config))
    assert result.exit_code == 2
    assert f"config file {config}" in result.output
    assert "setting mode = 'sideways'" in result.output
    assert "Traceback" not in result.output


def test_a_missing_file_is_an_error_also_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.toml"
    result = invoke("kill", "--config", str(missing))
    assert (result.exit_code, f"config file {missing} does not exist" in result.output) == (2, True)
    monkeypatch.setenv("AEGIS_CONFIG_FILE", str(missing))
    result = invoke("status")
    assert (result.exit_code, f"config file {missing} does not exist" in result.output) == (2, True)


def test_a_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    config = write_config(tmp_path / "broken.toml", "[database\n")
    result = invoke("status", "--config", str(config))
    assert result.exit_code == 2
    assert f"config file {config} is not valid TOML" in result.output


def test_an_unsupported_database_url_names_where_it_came_from(tmp_path: Path) -> None:
    config = write_config(tmp_path / "db.toml", '[database]\nurl = "mysql://u@h/db"\n')
    result = invoke("status", "--config", str(config))
    assert result.exit_code == 2
    assert f"config file {config}: setting database.url" in result.output
    assert "mysql://u@h/db" in result.output
    result = invoke("orders", "--database-url", "oracle://x")
    assert (result.exit_code, "--database-url" in result.output) == (2, True)


# ---------------------------------------------------------------- offline kill without a venue


def test_kill_with_a_paper_config_says_so_and_latches_for_the_start(
    tmp_path: Path, bot_data: Path
) -> None:
    config = write_config(tmp_path / "paper.toml",
                          f'mode = "paper"\ndata_dir = "{bot_data}"\n'
                          f'[database]\ntenant = "{TENANT}"\n')  # fmt: skip
    result = invoke("kill", "--config", str(config), "--bot", BOT, "--json")
    assert result.exit_code == 0, result.output
    offline = json.loads(result.stdout)["offline"]
    assert offline["outcome"] == "deferred_to_start"
    assert offline["note"].startswith(f"mode is paper (config file {config})")
    human = invoke("kill", "--config", str(config), "--bot", BOT)
    assert "mode is paper" in human.stdout
    with Store(sqlite_url(bot_data)) as store:
        outcomes = [a.outcome for a in store.audit_log(TENANT)]
    assert sorted(outcomes) == ["deferred_to_start"] * 2 + ["requested"] * 2


def test_kill_in_live_mode_without_credentials_fails_with_exit_4(
    config: Path, bot_data: Path
) -> None:
    result = invoke("kill", "--config", str(config), "--bot", BOT, "--json")
    assert result.exit_code == 4
    offline = json.loads(result.stdout)["offline"]
    assert offline["outcome"] == "failed_offline"
    [error] = offline["errors"]
    assert f"config file {config}" in error
    assert "needs credentials" in error
    with Store(sqlite_url(bot_data)) as store:
        [order] = store.pending_orders(TENANT, BOT)  # nothing was touched
    assert order.client_order_id == "B.1"


def test_kill_with_an_unreachable_venue_fails_with_exit_4_and_touches_nothing(
    tmp_path: Path, bot_data: Path
) -> None:
    exchange = 'name = "emulator"\nurl = "http://127.0.0.1:1"\napi_key = "k"\napi_secret = "s"\n'
    config = write_config(tmp_path / "down.toml",
                          f'mode = "live"\ndata_dir = "{bot_data}"\n'
                          f'[database]\ntenant = "{TENANT}"\n[exchange]\n{exchange}')  # fmt: skip
    result = invoke("kill", "--config", str(config), "--bot", BOT, "--json")
    assert result.exit_code == 4, result.output
    offline = json.loads(result.stdout)["offline"]
    assert offline["outcome"] == "failed_offline"
    [error] = offline["errors"]
    assert error.startswith("venue binanceusdm unreachable:")
    with Store(sqlite_url(bot_data)) as store:
        assert [o.client_order_id for o in store.pending_orders(TENANT, BOT)] == ["B.1"]
        assert "failed_offline" in {a.outcome for a in store.audit_log(TENANT)}


def test_kill_with_an_in_process_emulator_config_defers_to_the_start(
    tmp_path: Path, bot_data: Path
) -> None:
    config = write_config(tmp_path / "emu.toml",
                          f'mode = "live"\ndata_dir = "{bot_data}"\n'
                          f'[database]\ntenant = "{TENANT}"\n')  # fmt: skip
    result = invoke("kill", "--config", str(config), "--bot", BOT, "--json")
    assert result.exit_code == 0, result.output
    note = json.loads(result.stdout)["offline"]["note"]
    assert "in-process emulator ended with the runtime" in note
