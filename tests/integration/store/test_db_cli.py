"""`aegis db upgrade` and `aegis db status` on both back-ends."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aegis.cli.app import app
from aegis.store import head_revision

runner = CliRunner()


def test_status_then_upgrade_then_status(module_database: Callable[[], str]) -> None:
    url = module_database()
    before = runner.invoke(app, ["db", "status", "--database-url", url, "--json"])
    assert before.exit_code == 1, before.output
    assert json.loads(before.output)["pending_revisions"] == ["0001", "0002", "0003", "0004"]
    upgraded = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"-> {head_revision()}" in upgraded.output
    after = runner.invoke(app, ["db", "status", "--database-url", url, "--json"])
    assert after.exit_code == 0, after.output
    report = json.loads(after.output)
    assert report["current_revision"] == head_revision()
    assert report["table_counts"]["orders"] == 0
    text = runner.invoke(app, ["db", "status", "--database-url", url])
    assert "pending:  none" in text.output


def test_upgrade_uses_the_data_dir_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.delenv("AEGIS_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "aegis.db").is_file()


def test_unsupported_url_is_a_usage_error(backend: str) -> None:
    result = runner.invoke(app, ["db", "status", "--database-url", "mysql://x@h/db"])
    assert result.exit_code == 2
    flat = "".join(result.output.replace("│", " ").split())  # rich wraps the error in a box
    assert "onlysqliteandpostgresqlaresupported" in flat


def test_upgrade_and_status_find_the_database_from_the_bots_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # the same --config as `aegis run`: its data_dir holds the SQLite file; a flag overrides it
    for name in ("AEGIS_DATABASE_URL", "AEGIS_DATA_DIR", "AEGIS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    bot_data = tmp_path / "bot-data"
    config = tmp_path / "bot.toml"
    config.write_text(f'data_dir = "{bot_data}"\n', encoding="utf-8")
    upgraded = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
    assert upgraded.exit_code == 0, upgraded.output
    assert (bot_data / "aegis.db").is_file()
    assert not (tmp_path / ".aegis").exists()
    status = runner.invoke(app, ["db", "status", "--config", str(config), "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["current_revision"] == head_revision()
    other = tmp_path / "other"
    flagged = runner.invoke(
        app, ["db", "upgrade", "--config", str(config), "--data-dir", str(other)]
    )
    assert flagged.exit_code == 0, flagged.output
    assert (other / "aegis.db").is_file()


def test_a_bad_settings_file_names_it(tmp_path: Path, backend: str) -> None:
    config = tmp_path / "bot.toml"
    config.write_text("[database\n", encoding="utf-8")
    result = runner.invoke(app, ["db", "status", "--config", str(config)])
    assert result.exit_code == 2
    assert f"config file {config} is not valid TOML" in result.output
