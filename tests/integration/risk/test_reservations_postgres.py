"""RK2 on the real store: concurrent risk engines never reserve past the total limit."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from aegis.model.instrument import Instrument
from aegis.model.signals import Action, Decision
from aegis.risk.engine import RiskContext, RiskEngine, RiskRule, RiskVerdict
from aegis.risk.limits import RiskSettings
from aegis.risk.reservations import TenantCapitalReservations
from aegis.risk.sizing import FixedQuantity
from aegis.store import Store

pytestmark = pytest.mark.integration

WORKERS = 24
INSTRUMENT = Instrument.permissive("BTC/USDT")
PRICE = Decimal("333.333333333333333333")  # 1 unit per entry: notional = PRICE
EQUITY = Decimal(10_000)
TOTAL = Decimal("0.2")  # 2,000 of equity: room for exactly 6 entries
OPEN = {"ETH/USDT": Decimal(0)}


@pytest.fixture(scope="module")
def store(pg_database_url: str) -> Iterator[Store]:
    opened = Store(pg_database_url)
    opened.upgrade()
    yield opened
    opened.close()


def _engine(store: Store, tenant: str) -> RiskEngine:
    # one engine per task, each with its own Store (own connection pool), as separate workers
    # of one bot would run; only the database can keep them within the limit
    return RiskEngine(
        RiskSettings(max_total_exposure=TOTAL, max_symbol_exposure=Decimal(1),
                     max_open_positions=100),
        bot_id="bot1",
        tenant=tenant,
        sizer=FixedQuantity(1),
        reservations=TenantCapitalReservations(store, tenant),
    )  # fmt: skip


def _entry(engine: RiskEngine, number: int) -> RiskVerdict:
    decision = Decision("BTC/USDT", number, Action.ENTER_LONG, 1.0, "signal", "test")
    context = RiskContext(1_000 + number, EQUITY, PRICE, INSTRUMENT, OPEN, f"bot1.{number}")
    return engine.evaluate(decision, context)


def test_concurrent_entries_never_exceed_the_total_limit(store: Store) -> None:
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    url = store.engine.url.render_as_string(hide_password=False)
    stores = [Store(url) for _ in range(4)]
    engines = [_engine(stores[n % len(stores)], tenant) for n in range(WORKERS)]
    start = threading.Barrier(WORKERS)

    def enter(number: int) -> RiskVerdict:
        start.wait()
        return _entry(engines[number], number)

    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            verdicts = list(pool.map(enter, range(WORKERS)))
    finally:
        for opened in stores:
            opened.close()
    approved = [v for v in verdicts if v.approved]
    rejected = [v for v in verdicts if not v.approved]
    assert len(approved) == 6
    assert {v.rule for v in rejected} == {RiskRule.TOTAL_EXPOSURE}
    assert all("total exposure limit" in v.thought.thought for v in rejected)
    held = store.reserved_capital(tenant, "bot1")
    assert held == PRICE * 6
    assert held <= TOTAL * EQUITY


def test_release_on_fill_or_cancel_frees_capital_for_the_next_entry(store: Store) -> None:
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    engine = _engine(store, tenant)
    for number in range(6):
        assert _entry(engine, number).approved
    assert _entry(engine, 6).rule is RiskRule.TOTAL_EXPOSURE
    assert engine.release("bot1.0")
    assert _entry(engine, 7).approved
    assert store.reserved_capital(tenant, "bot1") == PRICE * 6
