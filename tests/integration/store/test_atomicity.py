"""PE2: a failure between the writes of one order update leaves no drift at all."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.model import OrderEventKind, Position, PositionSide
from aegis.store import APPLY_STAGES, Store, TradeRecord

from .conftest import PRICE, QUANTITY, make_fill, make_order, update, url_of


class InjectedFailure(RuntimeError):
    """Raised by the fault hook."""


@pytest.mark.parametrize("stage", APPLY_STAGES)
def test_failure_part_way_through_an_update_persists_nothing(
    store: Store, tenant: str, stage: str
) -> None:
    store.reserve_capital(tenant, "bot1", "bot1.1", Decimal(100), Decimal(1_000))
    order = store.record_intent(tenant, make_order(client_id="bot1.1"))
    submit = update(order, OrderEventKind.SUBMIT, 2_000)
    order = order.apply(submit)
    store.apply_order_update(tenant, order, submit)
    before = (
        store.get_order(tenant, "bot1.1"),
        store.order_events(tenant, "bot1.1"),
        store.fills(tenant),
        store.positions(tenant),
        store.trades(tenant),
        store.reserved_capital(tenant, "bot1"),
    )

    reached: list[str] = []

    def fail_at(current: str) -> None:
        reached.append(current)
        if current == stage:
            raise InjectedFailure(f"injected at {current}")

    faulty = Store(url_of(store), fault_hook=fail_at)
    fill = make_fill(order, "T-1", QUANTITY, 3_000)
    done = update(order, OrderEventKind.FILL, 3_000, fill=fill)
    filled = order.apply(done)
    trade = TradeRecord(
        "bot1.1", "bot1", order.symbol, PositionSide.LONG, 3_000, PRICE, QUANTITY,
        Decimal(0), Decimal(0), True,
    )  # fmt: skip
    position = Position(order.symbol, PositionSide.LONG, QUANTITY, PRICE)
    try:
        with pytest.raises(InjectedFailure):
            faulty.apply_order_update(tenant, filled, done, position=position, trade=trade)
    finally:
        faulty.close()

    assert reached[-1] == stage
    after = (
        store.get_order(tenant, "bot1.1"),
        store.order_events(tenant, "bot1.1"),
        store.fills(tenant),
        store.positions(tenant),
        store.trades(tenant),
        store.reserved_capital(tenant, "bot1"),
    )
    assert after == before
    # and the same update applies cleanly afterwards: nothing half-written blocks it
    store.apply_order_update(tenant, filled, done, position=position, trade=trade)
    assert store.get_order(tenant, "bot1.1") == filled
    assert store.positions(tenant) == [position]
    assert store.reserved_capital(tenant, "bot1") == 0
