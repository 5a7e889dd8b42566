"""Locate the real data files shipped inside the package (``aegis/resources``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aegis.model.errors import DataError


def _folder(kind: str) -> Path:
    folder = resources.files("aegis") / "resources" / kind
    # setuptools installs package data as plain files; a zipped install is not supported
    if not isinstance(folder, Path):
        raise DataError(f"bundled {kind} folder {folder} is not on the file system")
    return folder


def _find(kind: str, name: str) -> Path:
    folder = _folder(kind)
    path = folder / name
    if not path.is_file() or Path(name).name != name:
        available = ", ".join(p.name for p in sorted(folder.iterdir()) if p.is_file())
        raise DataError(f"no bundled {kind} file {name!r} (available: {available})")
    return path


def bundled_data_path(name: str) -> Path:
    """Return the path of a bundled candle/trade/funding file, e.g. ``bittrex_ETH-BTC_5m.csv.gz``.

    Raises:
        DataError: no such bundled file (the message lists the available ones).
    """
    return _find("data", name)


def bundled_markets_path(name: str) -> Path:
    """Return the path of a bundled markets file, e.g. ``binance-spot.json``.

    Raises:
        DataError: no such bundled file (the message lists the available ones).
    """
    return _find("markets", name)


def bundled_data_files() -> list[Path]:
    """Return every bundled data file, sorted by name."""
    return sorted(p for p in _folder("data").iterdir() if p.is_file())
