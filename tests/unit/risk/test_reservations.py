"""RK2: reservations are atomic; no interleaving of reserve/release passes the limit."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aegis.risk.reservations import InMemoryCapitalReservations, TenantCapitalReservations


def test_reserve_holds_until_the_limit_and_release_frees() -> None:
    book = InMemoryCapitalReservations()
    assert book.reserve("bot1", "c1", Decimal(60), Decimal(100))
    assert not book.reserve("bot1", "c2", Decimal(50), Decimal(100))
    assert book.reserve("bot1", "c2", Decimal(40), Decimal(100))  # exactly at the limit
    assert book.reserved("bot1") == Decimal(100)
    assert book.reserved("bot2") == 0
    assert book.release("bot1", "c1")
    assert not book.release("bot1", "c1")
    assert book.reserved("bot1") == Decimal(40)


def test_reserving_an_id_twice_counts_once_and_released_ids_are_final() -> None:
    book = InMemoryCapitalReservations()
    assert book.reserve("bot1", "c1", Decimal(10), Decimal(15))
    assert book.reserve("bot1", "c1", Decimal(10), Decimal(15))
    assert book.reserved("bot1") == Decimal(10)
    book.release("bot1", "c1")
    with pytest.raises(ValueError, match="reserves capital once"):
        book.reserve("bot1", "c1", Decimal(1), Decimal(15))


def test_bad_amounts_are_refused() -> None:
    book = InMemoryCapitalReservations()
    with pytest.raises(ValueError, match="must be positive"):
        book.reserve("bot1", "c1", Decimal(0), Decimal(15))
    with pytest.raises(ValueError, match="must not be negative"):
        book.reserve("bot1", "c1", Decimal(1), Decimal(-1))


def test_threads_never_exceed_the_limit() -> None:
    book = InMemoryCapitalReservations()
    start = threading.Barrier(16)
    granted: list[bool] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        start.wait()
        result = book.reserve("bot1", f"c{number}", Decimal(7), Decimal(50))
        with lock:
            granted.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 7  # 7 x 7 = 49 <= 50 < 56
    assert book.reserved("bot1") == Decimal(49)


# an operation: (reserve?, order number, amount in cents)
_OPERATIONS = st.lists(
    st.tuples(st.booleans(), st.integers(0, 15), st.integers(1, 5_000)), max_size=60
)


@settings(max_examples=150, deadline=None)
@given(operations=_OPERATIONS, limit_cents=st.integers(0, 10_000))
def test_no_interleaving_of_reserve_and_release_exceeds_the_limit(
    operations: list[tuple[bool, int, int]], limit_cents: int
) -> None:
    # the interleaving of many tasks is some sequence of atomic operations: any sequence
    # hypothesis finds must keep the held total within the limit and equal to a model
    book = InMemoryCapitalReservations()
    limit = Decimal(limit_cents) / 100
    model: dict[str, Decimal] = {}
    released: set[str] = set()
    for is_reserve, number, cents in operations:
        order = f"c{number}"
        amount = Decimal(cents) / 100
        if not is_reserve:
            was_held = model.pop(order, None) is not None
            assert book.release("bot1", order) == was_held
            if was_held:
                released.add(order)
        elif order in released and order not in model:
            with pytest.raises(ValueError, match="once"):
                book.reserve("bot1", order, amount, limit)
        else:
            fits = order in model or sum(model.values(), Decimal(0)) + amount <= limit
            assert book.reserve("bot1", order, amount, limit) == fits
            if fits:
                model.setdefault(order, amount)
        assert book.reserved("bot1") == sum(model.values(), Decimal(0)) <= limit


class _FakeStore:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def reserve_capital(
        self, tenant: str, bot_id: str, order_id: str, amount: Decimal, limit: Decimal
    ) -> bool:
        self.calls.append(("reserve", tenant, bot_id, order_id, amount, limit))
        return True

    def release_reservation(self, tenant: str, bot_id: str, order_id: str) -> bool:
        self.calls.append(("release", tenant, bot_id, order_id))
        return True

    def reserved_capital(self, tenant: str, bot_id: str) -> Decimal:
        return Decimal(3)


def test_tenant_adapter_passes_the_tenant_to_the_backend() -> None:
    backend = _FakeStore()
    reservations = TenantCapitalReservations(backend, "t1")
    assert reservations.reserve("bot1", "c1", Decimal(1), Decimal(2))
    assert reservations.release("bot1", "c1")
    assert reservations.reserved("bot1") == Decimal(3)
    assert backend.calls == [
        ("reserve", "t1", "bot1", "c1", Decimal(1), Decimal(2)),
        ("release", "t1", "bot1", "c1"),
    ]
    with pytest.raises(ValueError, match="tenant"):
        TenantCapitalReservations(backend, "")
