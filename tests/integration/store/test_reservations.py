"""RK2: capital reservations are atomic; concurrent callers never exceed the limit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from aegis.model import OrderEventKind
from aegis.store import Store, StoreError

from .conftest import make_order, update, url_of

WORKERS = 20
AMOUNT = Decimal("333.333333333333333333")
LIMIT = Decimal(2_000)  # room for exactly 6 of AMOUNT


def test_concurrent_reservations_never_exceed_the_limit(store: Store, tenant: str) -> None:
    # each worker its own Store (own pool), as separate processes would be
    stores = [Store(url_of(store)) for _ in range(4)]
    start = threading.Barrier(WORKERS)

    def reserve(number: int) -> bool:
        start.wait()
        return stores[number % len(stores)].reserve_capital(
            tenant, "bot1", f"bot1.{number}", AMOUNT, LIMIT
        )

    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            granted = list(pool.map(reserve, range(WORKERS)))
    finally:
        for opened in stores:
            opened.close()
    assert granted.count(True) == 6
    assert store.reserved_capital(tenant, "bot1") == AMOUNT * 6
    assert store.reserved_capital(tenant, "bot1") <= LIMIT


def test_reserving_the_same_order_twice_counts_once(store: Store, tenant: str) -> None:
    assert store.reserve_capital(tenant, "bot1", "bot1.1", Decimal(10), Decimal(15))
    assert store.reserve_capital(tenant, "bot1", "bot1.1", Decimal(10), Decimal(15))
    assert store.reserved_capital(tenant, "bot1") == Decimal(10)
    assert not store.reserve_capital(tenant, "bot1", "bot1.2", Decimal(10), Decimal(15))


def test_release_frees_capital_once(store: Store, tenant: str) -> None:
    assert store.reserve_capital(tenant, "bot1", "bot1.1", Decimal(10), Decimal(10))
    assert store.release_reservation(tenant, "bot1", "bot1.1")
    assert not store.release_reservation(tenant, "bot1", "bot1.1")
    assert store.reserved_capital(tenant, "bot1") == 0
    assert store.reserve_capital(tenant, "bot1", "bot1.2", Decimal(10), Decimal(10))
    with pytest.raises(StoreError, match=r"bot1\.1"):
        store.reserve_capital(tenant, "bot1", "bot1.1", Decimal(1), Decimal(100))


def test_terminal_order_update_releases_its_reservation(store: Store, tenant: str) -> None:
    store.reserve_capital(tenant, "bot1", "bot1.1", Decimal(10), Decimal(100))
    order = store.record_intent(tenant, make_order(client_id="bot1.1"))
    cancel = update(order, OrderEventKind.CANCEL, 2_000)
    store.apply_order_update(tenant, order.apply(cancel), cancel)
    assert store.reserved_capital(tenant, "bot1") == 0


def test_reservations_are_per_tenant_and_bot(store: Store, tenant: str, other_tenant: str) -> None:
    assert store.reserve_capital(tenant, "bot1", "bot1.1", Decimal(10), Decimal(10))
    assert store.reserve_capital(tenant, "bot2", "bot2.1", Decimal(10), Decimal(10))
    assert store.reserve_capital(other_tenant, "bot1", "bot1.1", Decimal(10), Decimal(10))
    assert store.reserved_capital(other_tenant, "bot2") == 0
    assert not store.release_reservation(other_tenant, "bot2", "bot2.1")
    assert store.reserved_capital(tenant, "bot2") == Decimal(10)


@pytest.mark.parametrize(("amount", "limit"), [(Decimal(0), Decimal(1)), (Decimal(1), Decimal(-1))])
def test_invalid_amount_or_limit_is_refused(
    store: Store, tenant: str, amount: Decimal, limit: Decimal
) -> None:
    with pytest.raises(ValueError, match="must"):
        store.reserve_capital(tenant, "bot1", "bot1.1", amount, limit)
