"""`python -m benchmarks.durability`: the cost of durability (issue 4, §7).

Intent to wire: the real ``TradingPipeline.prepare_order`` (plan, sizing, ``OrderManager.create``,
the intent write, SUBMITTED) with the order manager's intent writer committing the order through
``Store.record_intent`` (OR2: committed before the venue call), timed from the approved decision
to the moment the order could be handed to the venue. The runtime's intent writer
(``DurableJournal.write_intent``) makes the same ``record_intent`` call; the risk gate's
reservation (``reserve_capital``) is not part of this figure. SQLite (WAL, synchronous=FULL,
a file under build/bench) and PostgreSQL (``AEGIS_TEST_PG_DSN``, a fresh database created
and dropped).

Reconcile 10k: an in-process emulator (bundled XRP 5m data) whose account holds 10,000 filled
market orders (placed through its Python API, 100 at a time, each batch filled by the next
candle: the emulator's margin check walks every open order), a SQLite store holding the
same 10,000 orders and their fills (imported in one transaction, not timed), and one full
``Reconciler.run("bench")`` over a fresh ``CcxtVenue`` (markets loaded before the clock starts)
timed end to end: the store read, every history page through ccxt, the comparison, the run
record. ccxt's client-side rate limiter is off, as the runtime sets it for the emulator
(``RunSession._venue``): the emulator enforces Binance's request weights itself and answers
429 / 418, which the venue's ``RateLimitGate`` obeys; real exchanges keep ccxt's limiter (OR5).

Writes build/bench/durability.json, prints a table, exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks._live_stats import percentile
from benchmarks.data import BENCH_DIR

TARGET_SQLITE_P99_MS = 5.0
TARGET_POSTGRES_P99_MS = 10.0
TARGET_RECONCILE_S = 10.0
DEFAULT_PG_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SYMBOL = "XRP/USDT:USDT"
TENANT = "bench"


def intent_to_wire_ms(url: str, calls: int) -> list[float]:
    """Time ``calls`` approved entries through prepare_order with a store-backed intent writer."""
    from aegis.engine.pipeline import TradingPipeline
    from aegis.execution import OrderManager
    from aegis.model.enums import PositionMode
    from aegis.model.events import OrderEventKind, OrderUpdate
    from aegis.model.instrument import Instrument
    from aegis.model.order import Order
    from aegis.model.portfolio import Portfolio
    from aegis.model.signals import Action, Decision
    from aegis.risk import FixedQuantity
    from aegis.store import Store

    store = Store(url)
    try:
        store.upgrade()
        instrument = Instrument.permissive(SYMBOL, quote="USDT")
        portfolio = Portfolio({"USDT": Decimal(10_000)}, PositionMode.ONE_WAY)

        def write_intent(order: Order) -> None:
            store.record_intent(TENANT, order)

        manager = OrderManager("bench", {SYMBOL: instrument}, portfolio,
                               intent_writer=write_intent)  # fmt: skip
        pipeline = TradingPipeline(manager, FixedQuantity(Decimal(1)), _NoVenue())
        samples: list[float] = []
        for i in range(calls):
            decision = Decision(SYMBOL, i * 60_000, Action.ENTER_LONG, 1.0, "bench", "bench")
            started = time.perf_counter()
            order = pipeline.prepare_order(decision, 0.5, i * 60_000_000_000)
            samples.append((time.perf_counter() - started) * 1000)
            if order is None:
                raise SystemExit(
                    f"prepare_order ignored the bench entry {i}: {manager.thoughts[-1]}"
                )
            # the venue's refusal ends the order, so the next entry is not gated (not timed)
            reject = OrderUpdate(order.client_order_id, OrderEventKind.REJECT, order.updated_ns,
                                 reason="bench")  # fmt: skip
            pipeline.complete_submission(order, [reject])
        return samples
    finally:
        store.close()


BUNDLED_DATA = Path(__file__).resolve().parents[1] / "src" / "aegis" / "resources" / "data"
RECONCILE_ORDERS = 10_000
RECONCILE_KEY, RECONCILE_SECRET = "bench-reconcile-key", "bench-reconcile-secret"
RECONCILE_BOT = "bench-reconcile"
SEED_BATCH = 100  # the venue keeps at most MAX_NUM_ORDERS (200) open per symbol


async def reconcile_seconds(url: str, count: int) -> tuple[float, int, int]:
    """Time one full reconciliation of ``count`` orders; return (seconds, checked, mismatches)."""
    from aegis.config import ExchangeSettings
    from aegis.execution.reconcile import ReconcilePolicy, Reconciler
    from aegis.store import Store
    from aegis.venues.emulator import AccountSpec, EmulatorConfig
    from aegis.venues.emulator.engine import OrderRequest
    from aegis.venues.emulator.server import EmulatorServer

    config = EmulatorConfig(
        data_files=(BUNDLED_DATA / "binance-usdm_XRP-USDT-PERP_5m.csv.gz",),
        accounts=(AccountSpec(RECONCILE_KEY, RECONCILE_SECRET, balance=Decimal(10_000_000)),),
        history_candles=20,
    )
    server = EmulatorServer(config)
    await server.start()
    store = Store(url)
    try:
        store.upgrade()
        account = server.exchange.accounts[RECONCILE_KEY].venues["usdm"]
        for n in range(count):
            side = "BUY" if n % 2 == 0 else "SELL"
            account.place(
                OrderRequest("XRPUSDT", side, "MARKET", Decimal(10), None, None, "GTC", False,
                             "BOTH", f"{RECONCILE_BOT}.{n}"),
                is_algo=False,
            )  # fmt: skip
            if n % SEED_BATCH == SEED_BATCH - 1:
                # the emulator's margin check walks every open order: fill them as we go
                server.step()
        server.step()  # every market order fills on the next candle
        settings = ExchangeSettings(name="binanceusdm", api_key=SecretStr(RECONCILE_KEY),
                                    api_secret=SecretStr(RECONCILE_SECRET))  # fmt: skip
        seeder = await _emulator_venue(settings, server.base_url)
        try:
            orders = await seeder.fetch_orders(SYMBOL)
            fills = await seeder.fetch_fills(SYMBOL)
        finally:
            await seeder.close()
        if len(orders) != count:
            raise SystemExit(f"emulator holds {len(orders)} orders, expected {count}")
        import_history(store, TENANT, RECONCILE_BOT, orders, fills)
        venue = await _emulator_venue(settings, server.base_url)  # fresh: no client ids cached
        try:
            reconciler = Reconciler(
                venue, store, TENANT, RECONCILE_BOT, ReconcilePolicy.ALERT,
                symbols=[SYMBOL], clock=time.time_ns,
            )  # fmt: skip
            started = time.perf_counter()
            report = await reconciler.run("bench")
            seconds = time.perf_counter() - started
        finally:
            await venue.close()
        return seconds, report.records_checked, len(report.mismatches)
    finally:
        store.close()
        await server.stop()


async def _emulator_venue(settings: Any, base_url: str) -> Any:
    from aegis.venues.ccxt import CcxtVenue

    venue = CcxtVenue("binanceusdm", settings, base_url=base_url)
    # as the runtime does for the emulator (src/aegis/engine/session.py): its own weights apply
    venue.exchange.enableRateLimit = False
    await venue.connect()
    return venue


def import_history(
    store: Any, tenant: str, bot_id: str, venue_orders: list[Any], fills: list[Any]
) -> None:
    """Store ``venue_orders`` (as the healer would adopt them) and ``fills`` in ONE transaction.

    The bench's seeding, not timed: the store's API writes one transaction per order change
    (10,000 intents plus 20,000 updates would take minutes on SQLite with synchronous=FULL).
    """
    from aegis.model import Order, OrderType
    from aegis.store._convert import fill_values, order_values
    from aegis.store.records import INTENT_EVENT
    from aegis.store.schema import FillRow, OrderEventRow, OrderRow, table_of

    now = time.time_ns()
    order_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for theirs in venue_orders:
        created_ns = (theirs.created_ms or 0) * 1_000_000
        order = Order(
            client_order_id=theirs.client_order_id or theirs.venue_order_id,
            bot_id=bot_id,
            symbol=theirs.symbol,
            side=theirs.side,
            type=theirs.type or OrderType.MARKET,
            quantity=theirs.quantity,
            price=theirs.price,
            status=theirs.status,
            filled_quantity=theirs.filled_quantity,
            average_fill_price=theirs.average_price,
            venue_order_id=theirs.venue_order_id,
            created_ns=created_ns,
            updated_ns=(theirs.updated_ms or 0) * 1_000_000 or created_ns,
        )
        values = order_values(tenant, order)
        values["recorded_ns"] = now
        values["closed_ns"] = order.updated_ns if order.status.is_terminal else None
        order_rows.append(values)
        event_rows.append({
            "tenant_id": tenant, "client_order_id": order.client_order_id, "kind": INTENT_EVENT,
            "previous_status": None, "status": order.status.value, "ts_ns": created_ns,
            "recorded_ns": now, "venue_order_id": order.venue_order_id, "trade_id": None,
            "reason": "bench import",
        })  # fmt: skip
    store.ensure_bot(tenant, bot_id)
    with store.engine.begin() as connection:
        connection.execute(table_of(OrderRow).insert(), order_rows)
        connection.execute(table_of(OrderEventRow).insert(), event_rows)
        if fills:
            connection.execute(
                table_of(FillRow).insert(), [fill_values(tenant, bot_id, f, now) for f in fills]
            )


class _NoVenue:
    """The pipeline's synchronous venue seat: the bench stops before the venue call."""

    def submit(self, order: Any, ts_ns: int) -> list[Any]:
        raise RuntimeError(f"the bench never submits ({order!r})")

    def cancel(self, client_order_id: str, ts_ns: int) -> list[Any]:
        raise RuntimeError(f"the bench never cancels ({client_order_id})")


def _libpq(dsn: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(dsn).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_samples(calls: int) -> tuple[list[float] | None, str | None]:
    """Run the intent bench on a fresh PostgreSQL database; (None, reason) when unreachable."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = os.environ.get("AEGIS_TEST_PG_DSN") or DEFAULT_PG_DSN
    name = f"aegis_bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_libpq(admin), connect_timeout=3, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        return None, f"PostgreSQL at AEGIS_TEST_PG_DSN unreachable: {error}".strip()
    try:
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        return intent_to_wire_ms(url, calls), None
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(calls: int) -> dict[str, Any]:
    """Measure, write build/bench/durability.json and return the figures."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    db = BENCH_DIR / "durability.db"
    for suffix in ("", "-wal", "-shm"):
        (BENCH_DIR / f"durability.db{suffix}").unlink(missing_ok=True)
    cpu = time.process_time()
    sqlite = intent_to_wire_ms(f"sqlite:///{db}", calls)
    sqlite_cpu = time.process_time() - cpu
    postgres, pg_reason = postgres_samples(calls)
    reconcile_db = BENCH_DIR / "reconcile.db"
    for suffix in ("", "-wal", "-shm"):
        (BENCH_DIR / f"reconcile.db{suffix}").unlink(missing_ok=True)
    reconcile = asyncio.run(reconcile_seconds(f"sqlite:///{reconcile_db}", RECONCILE_ORDERS))
    for suffix in ("", "-wal", "-shm"):
        (BENCH_DIR / f"reconcile.db{suffix}").unlink(missing_ok=True)
    figures: dict[str, Any] = {
        "calls": calls,
        "intent_to_wire_p50_ms_sqlite": _round(percentile(sqlite, 50)),
        "intent_to_wire_p99_ms_sqlite": _round(percentile(sqlite, 99)),
        "intent_to_wire_max_ms_sqlite": _round(max(sqlite)),
        "intent_to_wire_cpu_ms_per_call_sqlite": round(sqlite_cpu / calls * 1000, 3),
        "intent_to_wire_p50_ms_postgres": _round(percentile(postgres or [], 50)),
        "intent_to_wire_p99_ms_postgres": _round(percentile(postgres or [], 99)),
        "intent_to_wire_max_ms_postgres": _round(max(postgres)) if postgres else None,
        "postgres_skipped": pg_reason,
        "reconcile_10k_seconds": round(reconcile[0], 3),
        "reconcile_10k_records_checked": reconcile[1],
        "reconcile_10k_mismatches": reconcile[2],
        "cpu_count": os.cpu_count(),
    }
    (BENCH_DIR / "durability.json").write_text(json.dumps(figures, indent=2) + "\n")
    for suffix in ("", "-wal", "-shm"):
        (BENCH_DIR / f"durability.db{suffix}").unlink(missing_ok=True)
    return figures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def report(figures: dict[str, Any]) -> bool:
    """Print the table; return True when a target is missed."""
    rows = [
        ("intent to wire p99, SQLite (ms)", figures["intent_to_wire_p99_ms_sqlite"],
         TARGET_SQLITE_P99_MS),
        ("intent to wire p99, PostgreSQL (ms)", figures["intent_to_wire_p99_ms_postgres"],
         TARGET_POSTGRES_P99_MS),
        ("reconcile 10,000 orders (s)", figures["reconcile_10k_seconds"], TARGET_RECONCILE_S),
    ]  # fmt: skip
    failed = False
    print(f"{'durability (issue 4)':40} {'value':>10} {'target':>10}  ok")
    for label, value, target in rows:
        ok = value is not None and value < target
        failed |= not ok
        print(f"{label:40} {'n/a' if value is None else value:>10} {'< ' + str(target):>10}  "
              f"{'yes' if ok else 'NO'}")  # fmt: skip
    print(f"reconcile: {figures['reconcile_10k_records_checked']} records checked, "
          f"{figures['reconcile_10k_mismatches']} mismatches")  # fmt: skip
    if figures["postgres_skipped"]:
        print(f"PostgreSQL: {figures['postgres_skipped']}")
    print(f"figures written to {BENCH_DIR / 'durability.json'}")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2_000, help="timed intents per back-end")
    parser.add_argument(
        "--only-reconcile",
        action="store_true",
        help="run the 10k reconciliation only (prints, writes nothing)",
    )
    args = parser.parse_args(argv)
    if args.only_reconcile:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        db = BENCH_DIR / "reconcile.db"
        for suffix in ("", "-wal", "-shm"):
            (BENCH_DIR / f"reconcile.db{suffix}").unlink(missing_ok=True)
        seconds, checked, mismatches = asyncio.run(
            reconcile_seconds(f"sqlite:///{db}", RECONCILE_ORDERS)
        )
        print(f"reconcile {RECONCILE_ORDERS} orders: {seconds:.3f} s, {checked} records checked, "
              f"{mismatches} mismatches")  # fmt: skip
        return 0 if seconds < TARGET_RECONCILE_S else 1
    return 1 if report(run(args.calls)) else 0


if __name__ == "__main__":
    sys.exit(main())
