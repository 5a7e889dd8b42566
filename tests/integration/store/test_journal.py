"""Snapshots, thoughts, audit, balances, instruments, reconciliation and breakers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.model import Instrument, MarketKind
from aegis.store import Store, StoreError

from .conftest import FakeClock, url_of


def test_latest_snapshot_round_trips_state_and_owner(store: Store, tenant: str) -> None:
    assert store.latest_snapshot(tenant, "bot1") is None
    store.save_snapshot(tenant, "bot1", "worker-a", {"weights": [0.25, 0.75], "last_ts_ms": 1})
    saved = store.save_snapshot(tenant, "bot1", "worker-b", {"weights": [0.5, 0.5], "n": "x"})
    latest = store.latest_snapshot(tenant, "bot1")
    assert latest == saved
    assert latest is not None
    assert (latest.owner, latest.state) == ("worker-b", {"weights": [0.5, 0.5], "n": "x"})


def test_snapshot_needs_an_owner_and_json_safe_state(store: Store, tenant: str) -> None:
    with pytest.raises(ValueError, match="owner"):
        store.save_snapshot(tenant, "bot1", "", {})
    with pytest.raises(ValueError, match="not JSON-safe"):
        store.save_snapshot(tenant, "bot1", "w", {"x": float("nan")})
    assert store.latest_snapshot(tenant, "bot1") is None


def test_thoughts_are_newest_first_with_metadata(store: Store, tenant: str) -> None:
    store.record_thought(tenant, "bot1", "no signal", ts_ns=1)
    store.record_thought(
        tenant, "bot1", "risk refused: daily loss", symbol="BTC/USDT", strategy="ema_cross",
        metadata={"loss": "12.5"}, ts_ns=2,
    )  # fmt: skip
    newest, oldest = store.thoughts(tenant, "bot1")
    assert (newest.text, newest.symbol, newest.metadata) == (
        "risk refused: daily loss",
        "BTC/USDT",
        {"loss": "12.5"},
    )
    assert oldest.text == "no signal"
    assert len(store.thoughts(tenant, limit=1)) == 1


def test_audit_records_who_what_when_outcome(store: Store, tenant: str) -> None:
    clock = FakeClock(5_000)
    timed = Store(url_of(store), clock=clock)
    try:
        entry = timed.audit(tenant, "alice", "pause", "ok", {"bot": "bot1"})
    finally:
        timed.close()
    assert store.audit_log(tenant) == [entry]
    assert (entry.actor, entry.action, entry.outcome, entry.ts_ns) == (
        "alice",
        "pause",
        "ok",
        5_000,
    )
    with pytest.raises(ValueError, match="actor"):
        store.audit(tenant, "", "pause", "ok")


def test_balances_keep_exact_decimals(store: Store, tenant: str) -> None:
    total = Decimal("1234.567890123456789012345")
    store.record_balance(tenant, "USDT", total, total / 2, ts_ns=1)
    store.record_balance(tenant, "BTC", Decimal("0.1"), Decimal("0.1"), bot_id="bot1", ts_ns=2)
    [usdt] = store.balances(tenant, "USDT")
    assert (usdt.total, usdt.free) == (total, total / 2)
    assert [b.currency for b in store.balances(tenant)] == ["USDT", "BTC"]


def test_instruments_round_trip_including_infinite_max(store: Store, tenant: str) -> None:
    spot = Instrument(
        symbol="BTC/USDT", base="BTC", quote="USDT", tick_size=Decimal("0.01"),
        step_size=Decimal("0.00001"), min_notional=Decimal(5),
        taker_fee_rate=Decimal("0.001"),
    )  # fmt: skip
    perp = Instrument.permissive("ETH/USDT:USDT")
    store.save_instrument(tenant, "binanceusdm", spot)
    store.save_instrument(tenant, "binanceusdm", perp)
    store.save_instrument(tenant, "binanceusdm", spot)  # replace, not duplicate
    loaded = store.instruments(tenant, "binanceusdm")
    assert loaded == {"BTC/USDT": spot, "ETH/USDT:USDT": perp}
    assert loaded["ETH/USDT:USDT"].kind is MarketKind.LINEAR_PERPETUAL
    assert store.instruments(tenant, "kraken") == {}


def test_reconciliation_run_with_mismatches(store: Store, tenant: str) -> None:
    run_id = store.start_reconciliation(tenant, "bot1", "start")
    store.record_mismatch(
        tenant, run_id, "missing_locally", "bot1.7",
        local_value=None, venue_value="filled 0.1", action="adopt",
    )  # fmt: skip
    store.record_mismatch(
        tenant, run_id, "quantity_drift", "BTC/USDT",
        local_value="0.1", venue_value="0.2", action="alert",
    )  # fmt: skip
    finished = store.finish_reconciliation(tenant, run_id, records_checked=1_234)
    assert (finished.status, finished.mismatch_count, finished.records_checked) == (
        "mismatched",
        2,
        1_234,
    )
    kinds = [m.kind for m in store.reconciliation_mismatches(tenant, run_id)]
    assert kinds == ["missing_locally", "quantity_drift"]
    clean = store.finish_reconciliation(
        tenant, store.start_reconciliation(tenant, "bot1", "periodic"), records_checked=0
    )
    assert clean.status == "clean"
    failed_id = store.start_reconciliation(tenant, "bot1", "reconnect")
    failed = store.finish_reconciliation(tenant, failed_id, records_checked=0, error="timeout")
    assert (failed.status, failed.error) == ("failed", "timeout")
    assert [run.trigger for run in store.reconciliation_runs(tenant, "bot1")] == [
        "reconnect",
        "periodic",
        "start",
    ]


def test_breaker_events_in_order(store: Store, tenant: str) -> None:
    store.record_breaker_event(tenant, "stale_data", "trip", "no candle for 180 s", bot_id="bot1")
    store.record_breaker_event(tenant, "stale_data", "resume", "operator", actor="alice")
    events = store.breaker_events(tenant)
    assert [(e.action, e.actor, e.bot_id) for e in events] == [
        ("trip", "system", "bot1"),
        ("resume", "alice", None),
    ]
    assert [e.action for e in store.breaker_events(tenant, bot_id="bot1")] == ["trip"]


def test_no_journal_query_returns_another_tenants_rows(
    store: Store, tenant: str, other_tenant: str
) -> None:
    store.save_snapshot(other_tenant, "bot1", "w", {"a": 1})
    store.record_thought(other_tenant, "bot1", "secret")
    store.audit(other_tenant, "bob", "kill", "ok")
    store.record_balance(other_tenant, "USDT", Decimal(1), Decimal(1))
    store.save_instrument(other_tenant, "v", Instrument.permissive("BTC/USDT"))
    run_id = store.start_reconciliation(other_tenant, "bot1", "start")
    store.record_mismatch(
        other_tenant, run_id, "status_drift", "x", local_value="a", venue_value="b", action="alert"
    )
    store.record_breaker_event(other_tenant, "ws_down", "trip", "down")
    assert store.latest_snapshot(tenant, "bot1") is None
    assert store.thoughts(tenant) == []
    assert store.audit_log(tenant) == []
    assert store.balances(tenant) == []
    assert store.instruments(tenant, "v") == {}
    assert store.reconciliation_runs(tenant) == []
    assert store.reconciliation_mismatches(tenant, run_id) == []
    assert store.breaker_events(tenant) == []
    with pytest.raises(StoreError, match=str(run_id)):
        store.record_mismatch(
            tenant, run_id, "status_drift", "x", local_value=None, venue_value=None, action="alert"
        )
    with pytest.raises(StoreError, match=str(run_id)):
        store.finish_reconciliation(tenant, run_id, records_checked=0)
