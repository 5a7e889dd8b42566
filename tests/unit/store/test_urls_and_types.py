"""URL helpers, the exact decimal column type and status reports (no database)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from aegis.model import ConfigError
from aegis.store import StoreStatus, database_url_from_env, normalise_database_url, redact_url
from aegis.store.types import ExactDecimal


def test_default_url_is_the_sqlite_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AEGIS_DATABASE_URL", raising=False)
    assert database_url_from_env(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'aegis.db'}"


def test_environment_url_wins_and_gets_the_psycopg_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AEGIS_DATABASE_URL", "postgresql://aegis:pw@db:5432/aegis")
    assert database_url_from_env(tmp_path) == "postgresql+psycopg://aegis:pw@db:5432/aegis"


def test_unsupported_backend_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError, match="only sqlite and postgresql") as caught:
        normalise_database_url("mysql://user:secret@host/db")
    assert "secret" not in str(caught.value)


def test_redact_url_hides_the_password() -> None:
    assert "secret" not in redact_url("postgresql+psycopg://user:secret@host/db")


@pytest.mark.parametrize(
    "value", [Decimal("65432.123456789012345678901"), Decimal("1E-30"), Decimal("Infinity")]
)
def test_exact_decimal_keeps_every_digit_on_sqlite(value: Decimal) -> None:
    column = ExactDecimal()
    dialect = sqlite.dialect()
    stored = column.process_bind_param(value, dialect)
    assert isinstance(stored, str)
    assert column.process_result_value(stored, dialect) == value
    assert str(column.process_result_value(stored, dialect)) == str(value)


def test_exact_decimal_passes_decimals_through_on_postgresql() -> None:
    value = Decimal("0.000000000000000000001")
    assert ExactDecimal().process_bind_param(value, postgresql.dialect()) is value


def test_exact_decimal_refuses_a_float() -> None:
    with pytest.raises(TypeError, match=r"0\.1"):
        ExactDecimal().process_bind_param(0.1, sqlite.dialect())  # type: ignore[arg-type]


def test_status_is_current_only_at_head_without_pending() -> None:
    behind = StoreStatus("sqlite://", "0001", "0002", ("0002",), {})
    current = StoreStatus("sqlite://", "0002", "0002", (), {"orders": 3})
    assert not behind.is_current
    assert current.is_current
    assert current.to_json()["table_counts"] == {"orders": 3}
