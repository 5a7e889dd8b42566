"""Binance USD-M / spot exchange emulator on 127.0.0.1 with fault injection (issue 3).

Unmodified ccxt (async and pro) trades against it; matching uses `aegis.venues.sim`.
`configure_ccxt` imports neither aiohttp nor ccxt, and `EmulatorServer` is loaded on first use,
so ``from aegis.venues.emulator import configure_ccxt`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aegis.venues.emulator.ccxt_config import configure_ccxt, emulator_error_table
from aegis.venues.emulator.config import AccountSpec, EmulatorConfig, FillModelSpec, parse_speed
from aegis.venues.emulator.errors import BinanceError
from aegis.venues.emulator.faults import FAULT_NAMES

if TYPE_CHECKING:
    from aegis.venues.emulator.server import EmulatorServer

__all__ = [
    "FAULT_NAMES",
    "AccountSpec",
    "BinanceError",
    "EmulatorConfig",
    "EmulatorServer",
    "FillModelSpec",
    "configure_ccxt",
    "emulator_error_table",
    "parse_speed",
]


def __getattr__(name: str) -> Any:
    # aiohttp is imported only when the server is really needed.
    if name == "EmulatorServer":
        from aegis.venues.emulator.server import EmulatorServer

        return EmulatorServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
