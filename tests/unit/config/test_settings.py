"""Settings precedence, validation messages and secret handling."""

from pathlib import Path

import pytest

from aegis.config import load_settings
from aegis.model.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AEGIS_EXCHANGE_API_KEY",
        "AEGIS_EXCHANGE_API_SECRET",
        "AEGIS_MODE",
        "AEGIS_CONFIG_FILE",
        "AEGIS_EXCHANGE_SECRETS_FILE",
        "AEGIS_MARKET__TIMEFRAME",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_a_paper_run_on_the_emulator() -> None:
    settings = load_settings()
    assert settings.mode == "paper"
    assert settings.exchange.name == "emulator"
    assert settings.data_dir == Path(".aegis")


def test_cli_overrides_beat_environment_which_beats_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "aegis.toml"
    config.write_text('mode = "live"\n[market]\ntimeframe = "1h"\nsymbols = ["BTC/USDT"]\n')
    monkeypatch.setenv("AEGIS_MARKET__TIMEFRAME", "15m")
    settings = load_settings(config, mode="paper")
    assert settings.mode == "paper"
    assert settings.market.timeframe == "15m"
    assert settings.market.symbols == ["BTC/USDT"]


def test_credentials_come_from_flat_environment_names_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AEGIS_EXCHANGE_API_KEY", "key-123")
    monkeypatch.setenv("AEGIS_EXCHANGE_API_SECRET", "very-secret-456")
    settings = load_settings()
    assert settings.exchange.api_secret is not None
    assert settings.exchange.api_secret.get_secret_value() == "very-secret-456"
    assert "very-secret-456" not in repr(settings)
    assert "very-secret-456" not in str(settings.model_dump())


def test_secrets_file_supplies_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('api_key = "k"\napi_secret = "s"\n')
    monkeypatch.setenv("AEGIS_EXCHANGE_SECRETS_FILE", str(secrets))
    assert load_settings().exchange.has_credentials


def test_invalid_setting_names_the_setting_and_value() -> None:
    with pytest.raises(ConfigError, match=r"setting mode = 'yolo'"):
        load_settings(mode="yolo")
    with pytest.raises(ConfigError, match=r"market\.symbols.*'BTCUSDT'"):
        load_settings(market={"symbols": ["BTCUSDT"]})


def test_unknown_setting_is_an_error() -> None:
    with pytest.raises(ConfigError, match="colour"):
        load_settings(colour="blue")


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        load_settings(tmp_path / "nope.toml")


def test_the_config_files_secrets_file_supplies_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `aegis run --config bot.toml` with [exchange] secrets_file: the file is read, and the
    # environment's keys still rank above it
    monkeypatch.delenv("AEGIS_EXCHANGE_SECRETS_FILE", raising=False)
    monkeypatch.delenv("AEGIS_EXCHANGE_API_KEY", raising=False)
    monkeypatch.delenv("AEGIS_EXCHANGE_API_SECRET", raising=False)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('api_key = "file-key"\napi_secret = "file-secret"\n')
    config = tmp_path / "bot.toml"
    config.write_text(
        f'mode = "live"\n[exchange]\nname = "binanceusdm"\nsecrets_file = "{secrets}"\n'
    )
    exchange = load_settings(config).exchange
    assert exchange.api_key is not None
    assert exchange.api_secret is not None
    assert (exchange.api_key.get_secret_value(), exchange.api_secret.get_secret_value()) == (
        "file-key",
        "file-secret",
    )
    monkeypatch.setenv("AEGIS_EXCHANGE_API_KEY", "env-key")
    exchange = load_settings(config).exchange
    assert exchange.api_key is not None
    assert exchange.api_key.get_secret_value() == "env-key"


def test_a_missing_secrets_file_named_by_the_config_file_stops_live_mode_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a backtest or `aegis status` with a live bot's file on another machine needs no keys
    for name in (
        "AEGIS_EXCHANGE_SECRETS_FILE",
        "AEGIS_EXCHANGE_API_KEY",
        "AEGIS_EXCHANGE_API_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    gone = tmp_path / "gone.toml"
    config = tmp_path / "bot.toml"
    config.write_text(f'[exchange]\nsecrets_file = "{gone}"\n')
    assert not load_settings(config).exchange.has_credentials
    config.write_text(f'mode = "live"\n[exchange]\nsecrets_file = "{gone}"\n')
    with pytest.raises(
        ConfigError, match=r"exchange\.secrets_file = '.*gone\.toml': the file does"
    ):
        load_settings(config)


def test_a_config_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes("mode = 'p\xe9per'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"config file .*latin1\.toml is not UTF-8 text"):
        load_settings(config)


def test_a_config_file_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("mode = 'live\n")
    with pytest.raises(ConfigError, match=r"config file .*broken\.toml is not valid TOML"):
        load_settings(config)


def test_a_missing_file_named_by_aegis_config_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AEGIS_CONFIG_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match=r"absent\.toml \(AEGIS_CONFIG_FILE\) does not exist"):
        load_settings()
