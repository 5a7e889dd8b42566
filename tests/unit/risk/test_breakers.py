"""RK3: breakers pause entries (not exits), are audited, and resume only explicitly."""

from __future__ import annotations

import json

import pytest

from aegis.risk.breakers import (
    BreakerAction,
    BreakerBoard,
    BreakerKind,
    BreakerSettings,
)

S = 1_000_000_000
T0 = 1_700_000_000 * S


def test_trip_blocks_entries_and_produces_an_audit_event() -> None:
    board = BreakerBoard("bot1")
    assert board.allows_entry()
    event = board.trip(BreakerKind.MANUAL, "operator pause", T0, actor="alice")
    assert event is not None
    assert event.to_json() == {
        "bot_id": "bot1", "breaker": "manual", "action": "trip", "reason": "operator pause",
        "actor": "alice", "ts_ns": T0,
    }  # fmt: skip
    assert not board.allows_entry()
    assert "manual (operator pause)" in (board.entry_block_reason() or "")
    assert board.trip(BreakerKind.MANUAL, "again", T0 + 1) is None  # no duplicate event


def test_stale_data_trips_above_the_age_limit() -> None:
    board = BreakerBoard("bot1", BreakerSettings(stale_data_s=60))
    assert board.check_data_age("BTC/USDT", T0, T0 + 60 * S) is None
    event = board.check_data_age("BTC/USDT", T0, T0 + 61 * S)
    assert event is not None
    assert event.breaker is BreakerKind.STALE_DATA
    assert "61 s old" in event.reason


def test_no_data_at_all_is_stale() -> None:
    event = BreakerBoard("bot1").check_data_age("ETH/USDT", None, T0)
    assert event is not None
    assert event.reason == "no data for ETH/USDT"


def test_websocket_down_longer_than_t_trips_and_reconnect_does_not_resume() -> None:
    board = BreakerBoard("bot1", BreakerSettings(websocket_down_s=30))
    board.websocket_disconnected(T0)
    board.websocket_disconnected(T0 + 10 * S)  # a repeated report keeps the first time
    assert board.check_websocket(T0 + 30 * S) is None
    event = board.check_websocket(T0 + 31 * S)
    assert event is not None
    assert event.breaker is BreakerKind.WEBSOCKET_DOWN
    board.websocket_connected(T0 + 40 * S)
    assert board.check_websocket(T0 + 50 * S) is None
    assert not board.allows_entry()  # still paused: resume is explicit


def test_a_short_websocket_outage_does_not_trip() -> None:
    board = BreakerBoard("bot1", BreakerSettings(websocket_down_s=30))
    board.websocket_disconnected(T0)
    board.websocket_connected(T0 + 5 * S)
    assert board.check_websocket(T0 + 100 * S) is None
    assert board.allows_entry()


def test_error_rate_trips_on_errors_within_the_window_only() -> None:
    board = BreakerBoard("bot1", BreakerSettings(error_window_s=10, max_errors=3))
    assert board.record_error(T0) is None
    assert board.record_error(T0 + 5 * S) is None
    assert board.record_error(T0 + 10 * S) is None  # the first fell out of the window
    event = board.record_error(T0 + 11 * S, "timeout")
    assert event is not None
    assert "3 errors within 10 s" in event.reason
    assert event.reason.endswith("last: timeout")


def test_reconciliation_mismatch_trips() -> None:
    board = BreakerBoard("bot1")
    assert board.reconciliation_result(0, T0) is None
    event = board.reconciliation_result(2, T0, "position drift BTC/USDT")
    assert event is not None
    assert event.reason == "reconciliation found 2 mismatch(es): position drift BTC/USDT"


def test_resume_needs_an_actor_and_reports_each_breaker() -> None:
    board = BreakerBoard("bot1")
    board.trip(BreakerKind.STALE_DATA, "old", T0)
    board.trip(BreakerKind.ERROR_RATE, "many", T0)
    with pytest.raises(ValueError, match="needs an actor"):
        board.resume("all", " ", T0)
    events = board.resume(BreakerKind.STALE_DATA, "alice", T0 + 1)
    assert [(e.breaker, e.action, e.actor) for e in events] == [
        (BreakerKind.STALE_DATA, BreakerAction.RESUME, "alice")
    ]
    assert not board.allows_entry()
    events = board.resume("all", "bob", T0 + 2)
    assert [e.breaker for e in events] == [BreakerKind.ERROR_RATE]
    assert board.allows_entry()
    assert board.resume("all", "bob", T0 + 3) == []


def test_resumed_error_rate_does_not_retrip_on_old_errors() -> None:
    board = BreakerBoard("bot1", BreakerSettings(error_window_s=60, max_errors=2))
    board.record_error(T0)
    board.record_error(T0 + S)
    board.resume(BreakerKind.ERROR_RATE, "alice", T0 + 2 * S)
    assert board.record_error(T0 + 3 * S) is None


def test_state_is_json_safe_and_restores_trips() -> None:
    board = BreakerBoard("bot1")
    board.trip(BreakerKind.RECONCILIATION_MISMATCH, "drift", T0)
    board.record_error(T0)
    board.websocket_disconnected(T0)
    state = json.loads(json.dumps(board.state()))
    restored = BreakerBoard("bot1")
    restored.restore(state)
    assert restored.state() == board.state()
    assert not restored.allows_entry()


def test_settings_must_be_positive_integers() -> None:
    with pytest.raises(Exception, match="max_errors"):
        BreakerSettings(max_errors=0)
