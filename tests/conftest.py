"""Shared test fixtures: real data locations and service availability rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_DATA = REPO_ROOT / "src" / "aegis" / "resources" / "data"
BUNDLED_MARKETS = REPO_ROOT / "src" / "aegis" / "resources" / "markets"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _shared_real_data() -> Path | None:
    configured = os.environ.get("AEGIS_SHARED_DATA")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT.parent / "shared" / "data" / "real")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def require_or_skip(reason: str) -> None:
    """Skip with a visible reason locally; fail under CI=true, where every service must exist."""
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The shared real-data folder (../shared/data/real); CI has it beside the clone."""
    found = _shared_real_data()
    if found is None:
        require_or_skip("../shared/data/real not found (set AEGIS_SHARED_DATA)")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def real_candle_files(real_data_dir: Path) -> list[Path]:
    """Every real candle file (not trades, not funding)."""
    return sorted(
        p
        for p in real_data_dir.glob("*.csv.gz")
        if not p.name.endswith(("_trades.csv.gz", "-funding.csv.gz"))
    )


@pytest.fixture(scope="session")
def real_markets_dir(real_data_dir: Path) -> Path:
    return real_data_dir / "markets"


@pytest.fixture(scope="session")
def bundled_data_dir() -> Path:
    return BUNDLED_DATA
