"""Determinism over random order flows, and next_event_index against a brute-force scan."""

from __future__ import annotations

import copy
from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aegis.model.enums import OrderSide, OrderType, TimeInForce
from aegis.model.events import OrderEventKind, OrderUpdate
from aegis.model.order import Order
from aegis.venues.sim import FillModel, SimulatedExchange

from .sim_helpers import MINUTE_MS, SYMBOL, T0_MS, candle_ns, make_exchange, make_order

TYPES = [
    OrderType.MARKET,
    OrderType.LIMIT,
    OrderType.STOP_MARKET,
    OrderType.STOP_LIMIT,
    OrderType.TAKE_PROFIT,
]
TIFS = [TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY]


def random_walk(seed: int, count: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.5, count)).round(1)
    open_ = np.concatenate(([100.0], close[:-1])) + rng.normal(0, 0.2, count).round(1)
    high = np.maximum(open_, close) + rng.uniform(0, 1, count).round(1)
    low = np.minimum(open_, close) - rng.uniform(0, 1, count).round(1)
    volume = rng.uniform(0, 20, count).round(3)
    return open_, high, low, close, volume


def random_order(rng: np.random.Generator, reference: float, client_order_id: str) -> Order:
    order_type = TYPES[int(rng.integers(len(TYPES)))]
    side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
    offset = round(float(rng.uniform(-3, 3)), 1)
    price = stop = None
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        price = f"{reference + offset:.1f}"
    if order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT):
        stop = f"{reference + round(float(rng.uniform(-3, 3)), 1):.1f}"
    tif = TIFS[int(rng.integers(len(TIFS)))] if order_type is OrderType.LIMIT else TimeInForce.GTC
    return make_order(
        side,
        order_type,
        f"{float(rng.uniform(0.001, 3)):.3f}",
        price=price,
        stop_price=stop,
        time_in_force=tif,
        reduce_only=bool(rng.random() < 0.15),
        client_order_id=client_order_id,
    )


def simulate(model: FillModel, flow_seed: int, count: int = 80) -> list[OrderUpdate]:
    """Submit random orders on random candles; return every update in order."""
    exchange = make_exchange(model)
    rng = np.random.default_rng(flow_seed)
    open_, high, low, close, volume = random_walk(flow_seed, count)
    orders: dict[str, Order] = {}
    submitted_ns: dict[str, int] = {}
    updates: list[OrderUpdate] = []
    for i in range(count):
        for _ in range(int(rng.integers(0, 3))):
            reference = float(close[i - 1]) if i else 100.0
            order = random_order(rng, reference, f"flow-{len(orders)}")
            orders[order.client_order_id] = order.apply(
                OrderUpdate(order.client_order_id, OrderEventKind.SUBMIT, candle_ns(i))
            )
            submitted_ns[order.client_order_id] = candle_ns(i) - 1
            updates += exchange.submit(order, candle_ns(i) - 1)
        if i and rng.random() < 0.1 and exchange.has_open_orders():
            updates += exchange.cancel(exchange.open_orders()[0].client_order_id, candle_ns(i))
        step = exchange.on_candle(
            SYMBOL, T0_MS + i * MINUTE_MS, open_[i], high[i], low[i], close[i], volume[i]
        )
        for update in step:
            # Fills happen on a candle after the submission, inside its range (no slippage).
            fill = update.fill
            if fill is not None and model.slippage_bps == 0:
                assert float(low[i]) <= float(fill.price) <= float(high[i])
                assert fill.ts_ns == candle_ns(i) > submitted_ns[fill.client_order_id]
        updates += step
    for update in updates:
        if update.kind is not OrderEventKind.REJECT:
            # The caller's state machine accepts every update the exchange sends.
            orders[update.client_order_id] = orders[update.client_order_id].apply(update)
    return updates


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flow_seed=st.integers(0, 10_000),
    model_seed=st.integers(0, 10_000),
    share=st.one_of(st.none(), st.floats(0.01, 1.0)),
    random_bps=st.sampled_from([0.0, 15.0]),
)
def test_same_seed_gives_identical_fills(
    flow_seed: int, model_seed: int, share: float | None, random_bps: float
) -> None:
    model = FillModel(
        slippage_bps=0.0 if random_bps == 0 else 2.0,
        slippage_random_bps=random_bps,
        max_volume_share=share,
        seed=model_seed,
    )
    first = simulate(model, flow_seed)
    assert first == simulate(model, flow_seed)


def test_random_flows_exercise_every_outcome() -> None:
    kinds = {u.kind for seed in range(6) for u in simulate(FillModel(max_volume_share=0.05), seed)}
    assert kinds >= {
        OrderEventKind.ACCEPT,
        OrderEventKind.REJECT,
        OrderEventKind.PARTIAL_FILL,
        OrderEventKind.FILL,
        OrderEventKind.EXPIRE,
        OrderEventKind.CANCEL,
    }


# ----------------------------------------------------------------- next_event_index
def brute_force_index(
    orders: list[Order], high: np.ndarray, low: np.ndarray, start: int, *, arrived: bool
) -> int | None:
    """Scan candle by candle with the documented range conditions, in plain Python."""
    for i in range(start, len(high)):
        for order in orders:
            is_buy = order.side is OrderSide.BUY
            if order.type is OrderType.MARKET or (order.type is OrderType.LIMIT and not arrived):
                return i
            if order.type is OrderType.LIMIT:
                price = float(order.price)  # type: ignore[arg-type]
                if (is_buy and low[i] < price) or (not is_buy and high[i] > price):
                    return i
            else:
                stop = float(order.stop_price)  # type: ignore[arg-type]
                up = is_buy == (order.type is not OrderType.TAKE_PROFIT)
                if (up and high[i] >= stop) or (not up and low[i] <= stop):
                    return i
    return None


def resting_book(seed: int) -> tuple[SimulatedExchange, list[Order], tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    candles = random_walk(seed, 400)
    exchange = make_exchange()
    exchange.on_candle(SYMBOL, T0_MS, 100.0, 100.0, 100.0, 100.0, 1.0)
    orders = []
    for _ in range(int(rng.integers(1, 4))):
        side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
        distance = round(float(rng.uniform(2, 15)), 1)
        kind = [OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT][int(rng.integers(3))]
        away_down = (side is OrderSide.BUY) == (kind is not OrderType.STOP_MARKET)
        level = f"{100 - distance if away_down else 100 + distance:.1f}"
        if kind is OrderType.LIMIT:
            order = make_order(side, kind, "1", price=level)
        else:
            order = make_order(side, kind, "1", stop_price=level)
        exchange.submit(order, candle_ns(1))
        orders.append(order)
    return exchange, orders, candles


def test_next_event_index_agrees_with_a_brute_force_scan() -> None:
    for seed in range(40):
        exchange, orders, (_, high, low, _, _) = resting_book(seed)
        # Before the first candle every limit must be visited once (it meets the market).
        first = brute_force_index(orders, high, low, 1, arrived=False)
        assert exchange.next_event_index(SYMBOL, high, low, 1) == first
        exchange.on_candle(SYMBOL, T0_MS + MINUTE_MS, 100.0, 100.0, 100.0, 100.0, 1.0)
        for start in (2, 50, 199, 399, 400):
            expected = brute_force_index(orders, high, low, start, arrived=True)
            assert exchange.next_event_index(SYMBOL, high, low, start) == expected, (seed, start)


def test_skipping_to_next_event_index_gives_the_same_fills_as_every_candle() -> None:
    for seed in range(20):
        every, _, candles = resting_book(seed)
        high, low = candles[1], candles[2]
        skipping = copy.deepcopy(every)
        ts = T0_MS + np.arange(len(high), dtype=np.int64) * MINUTE_MS

        def step(
            exchange: SimulatedExchange, i: int, candles: tuple[np.ndarray, ...] = candles
        ) -> list[OrderUpdate]:
            open_, high, low, close, volume = candles
            return exchange.on_candle(
                SYMBOL, T0_MS + i * MINUTE_MS, open_[i], high[i], low[i], close[i], volume[i]
            )

        expected = [u for i in range(1, len(high)) for u in step(every, i)]
        got: list[OrderUpdate] = []
        visits = 0
        index = skipping.next_event_index(SYMBOL, high, low, 1, ts_ms=ts)
        while index is not None:
            got += step(skipping, index)
            visits += 1
            index = skipping.next_event_index(SYMBOL, high, low, index + 1, ts_ms=ts)
        assert got == expected, seed
        assert visits < 20


def test_next_event_index_honours_latency_with_timestamps() -> None:
    exchange = make_exchange(FillModel(latency_ms=150_000))
    exchange.on_candle(SYMBOL, T0_MS, 100.0, 100.0, 100.0, 100.0, 1.0)
    exchange.submit(make_order(OrderSide.BUY), candle_ns(1))
    high = np.full(10, 101.0)
    low = np.full(10, 99.0)
    ts = T0_MS + np.arange(10, dtype=np.int64) * MINUTE_MS
    assert exchange.next_event_index(SYMBOL, high, low, 1) == 1
    assert exchange.next_event_index(SYMBOL, high, low, 1, ts_ms=ts) == 4  # 1 min + 2.5 min


def test_next_event_index_visits_funding_while_a_position_is_open() -> None:
    from .sim_helpers import make_instrument

    instrument = make_instrument()
    hour_ms = 3_600_000
    t0 = 1_637_193_600_000
    funding = _Funding([t0 + 8 * hour_ms + 17], [Decimal("0.0001")])
    exchange = SimulatedExchange({SYMBOL: instrument}, FillModel(), funding={SYMBOL: funding})
    ts = t0 + np.arange(24, dtype=np.int64) * hour_ms
    high = np.full(24, 101.0)
    low = np.full(24, 99.0)
    assert exchange.next_event_index(SYMBOL, high, low, 0, ts_ms=ts) is None  # no position
    exchange.submit(make_order(OrderSide.BUY, quantity="2"), int(ts[0]) * 1_000_000)
    exchange.on_candle(SYMBOL, int(ts[0]), 100.0, 101.0, 99.0, 100.5, 10.0)
    assert exchange.position(SYMBOL) == 2
    assert exchange.next_event_index(SYMBOL, high, low, 1, ts_ms=ts) == 7  # close before 8 h
    exchange.on_candle(SYMBOL, int(ts[7]), 100.0, 101.0, 99.0, 104.0, 10.0)
    assert exchange.next_event_index(SYMBOL, high, low, 8, ts_ms=ts) == 8
    exchange.on_candle(SYMBOL, int(ts[8]), 104.5, 105.0, 104.0, 104.5, 10.0)
    (payment,) = exchange.drain_funding()
    assert (payment.mark_price, payment.amount) == (Decimal("104.0"), Decimal("-0.0208000"))
    assert exchange.next_event_index(SYMBOL, high, low, 9, ts_ms=ts) is None


class _Funding:
    def __init__(self, ts_ms: list[int], rate: list[Decimal]) -> None:
        self.ts_ms = ts_ms
        self.rate = rate
