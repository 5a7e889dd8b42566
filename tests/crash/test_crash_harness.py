"""Crash safety (issue 4 §3), small count: SIGKILL `aegis run` 8 times, restart, compare.

The full acceptance run is `make crash-test` (50 kills per back-end); this is the same harness
with fewer kills and candles so it fits in `make test`. Each back-end is its own test, so
pytest-xdist can run them side by side.
"""

from __future__ import annotations

import os

import pytest
from benchmarks.crash_processes import PostgresDatabase, postgres_admin_dsn
from benchmarks.crash_test import HarnessOptions, report, run_harness
from tests.conftest import require_or_skip

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

KILLS = 8
#: Enough candles for 8 short lives (a few candles each) and a clean finish, and no more.
CANDLES = 90


def _postgres_reachable() -> None:
    probe = PostgresDatabase(postgres_admin_dsn())
    try:
        probe.create()
    except ConnectionError as error:
        require_or_skip(str(error))
    probe.drop()


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_kill_nine_anywhere_in_the_lifecycle_loses_and_duplicates_nothing(database: str) -> None:
    if database == "postgres":
        _postgres_reachable()
    options = HarnessOptions(
        kills=KILLS,
        database=database,
        candles=CANDLES,
        life_timeout_s=60.0,
        final_timeout_s=120.0,
        verbose=os.environ.get("AEGIS_CRASH_VERBOSE") == "1",
    )
    result = run_harness(options)
    text = report(result)
    assert not result.errors, text
    assert result.kills == KILLS, text
    # Every point of the lifecycle was hit at least once, not only the cheap ones.
    assert set(result.points_hit) == {
        "before_submit",
        "after_submit_before_ack",
        "after_ack_before_fill",
        "inside_transaction",
        "during_reconciliation",
    }, text
    assert result.verdict.facts["venue_fills"] > 0, text
    assert result.summary_line() == f"kills={KILLS} duplicates=0 lost=0 drift=0", text
