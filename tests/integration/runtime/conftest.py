"""Fixtures: a small real candle file (named as the emulator expects) and run settings."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aegis.config import Settings, load_settings

pytestmark = pytest.mark.integration

SYMBOL = "XRP/USDT:USDT"
CANDLES = 300
PARAMS = {"fast": "5", "slow": "20"}
SIZE = "10"  # 10 XRP at ~1.1 USDT: above XRPUSDT's 5 USDT minimum notional
FEE_BPS = "5"  # the emulator's USD-M taker fee (0.05 %): market orders pay it


@pytest.fixture(scope="session")
def xrp_slice(tmp_path_factory: pytest.TempPathFactory, bundled_data_dir: Path) -> Path:
    """The first 300 real XRPUSDT perpetual 5m candles, in a file the emulator can replay."""
    source = bundled_data_dir / "binance-usdm_XRP-USDT-PERP_5m.csv.gz"
    with gzip.open(source, "rt") as stream:
        lines = stream.read().splitlines()
    target = tmp_path_factory.mktemp("runtime-data") / "binance-usdm_XRP-USDT-PERP_5m.csv"
    target.write_text("\n".join(lines[: CANDLES + 1]) + "\n", encoding="utf-8")
    return target


@pytest.fixture
def run_settings(xrp_slice: Path, tmp_path: Path) -> Callable[..., Settings]:
    """Settings of a step-driven run against the in-process emulator on ``xrp_slice``."""

    def make(mode: str = "paper", **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "mode": mode,
            "data_dir": tmp_path / f"aegis-{mode}",
            "exchange": {"name": "emulator"},
            "market": {"symbols": [SYMBOL], "timeframe": "5m", "data": [xrp_slice],
                       "speed": "max"},
            "strategy": {"name": "ema_cross", "params": PARAMS},
            "sizing": {"quantity": SIZE, "fee_bps": FEE_BPS, "cash": "10000"},
            "server": {"port": 0},
        }  # fmt: skip
        values.update(overrides)
        return load_settings(None, **values)

    return make
