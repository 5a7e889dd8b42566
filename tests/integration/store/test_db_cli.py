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
    assert json.loads(before.output)["pending_revisions"] == ["0001", "0002"]
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
