"""`aegis.engine.crashpoints`: SIGKILL on the selected passage, nothing otherwise (subprocesses)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from aegis.engine.crashpoints import CRASH_POINTS, parse_crash_at

# Passes three points in lifecycle order, printing a line after each passage.
SCRIPT = """
from aegis.engine.crashpoints import crash_point
for round_number in (1, 2, 3):
    for name in ("before_submit", "inside_transaction", "after_ack_before_fill"):
        crash_point(name)
        print(f"{name} {round_number}", flush=True)
"""


def run_script(crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AEGIS_CRASH_AT"}
    if crash_at is not None:
        env["AEGIS_CRASH_AT"] = crash_at
    return subprocess.run(  # noqa: S603 - this interpreter, fixed script
        [sys.executable, "-c", SCRIPT],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


def test_without_the_variable_every_point_is_a_no_op() -> None:
    result = run_script(None)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 9


def test_kills_with_sigkill_on_the_nth_passage_of_the_point() -> None:
    result = run_script("inside_transaction:2")
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.splitlines() == [
        "before_submit 1",
        "inside_transaction 1",
        "after_ack_before_fill 1",
        "before_submit 2",
    ]
    assert "aegis_crash_point point=inside_transaction hit=2" in result.stderr


def test_point_without_a_count_kills_on_its_first_passage() -> None:
    result = run_script("before_submit")
    assert result.returncode == -signal.SIGKILL
    assert result.stdout == ""


def test_first_armed_point_reached_kills_when_several_are_armed() -> None:
    result = run_script("during_reconciliation:1,after_ack_before_fill:3,before_submit:2")
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.splitlines()[-1] == "after_ack_before_fill 1"
    assert "point=before_submit hit=2" in result.stderr


def test_point_never_reached_often_enough_lets_the_process_finish() -> None:
    result = run_script("before_submit:4")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 9


def test_unknown_point_stops_the_process_naming_it() -> None:
    result = run_script("before_sumbit:1")
    assert result.returncode == 1
    assert "unknown crash point 'before_sumbit'" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("before_submit:0", "hit number 0 of 'before_submit' must be >= 1"),
        ("before_submit:x", "hit number 'x' of 'before_submit' is not an integer"),
        ("before_submit:1,before_submit:2", "crash point 'before_submit' given twice"),
        ("nowhere", "unknown crash point 'nowhere'"),
    ],
)
def test_parse_refuses_bad_values_naming_them(value: str, message: str) -> None:
    with pytest.raises(ValueError, match="AEGIS_CRASH_AT") as caught:
        parse_crash_at(value)
    assert message in str(caught.value)


def test_parse_reads_points_and_counts() -> None:
    assert parse_crash_at("") == {}
    assert parse_crash_at(" during_reconciliation , inside_transaction:7 ") == {
        "during_reconciliation": 1,
        "inside_transaction": 7,
    }
    assert set(CRASH_POINTS) == {
        "before_submit",
        "after_submit_before_ack",
        "after_ack_before_fill",
        "inside_transaction",
        "during_reconciliation",
    }
