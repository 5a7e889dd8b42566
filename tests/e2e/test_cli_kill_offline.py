"""`aegis kill --config` with no runtime: cancel and flatten on the emulator through the CLI (RK5).

The bot's state is left in a real store and on the emulator account the way a runtime leaves it:
intents written first through the runtime's ``DurableJournal`` (OR2), sent through a
``CcxtVenue``, the venue's answers and the fill applied with ``Store.apply_order_update``. Then
`aegis kill --config bot.toml --bot B --json` runs (in a thread: the emulator serves from the
test's event loop) and the emulator is checked through a second ccxt client.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require_or_skip
from tests.emulator_accounts import bot_venue, raw_client, xrp_emulator
from tests.integration.store.conftest import DEFAULT_PG_DSN, _libpq, _PgDatabases
from typer.testing import CliRunner, Result

from aegis.cli.app import app
from aegis.config import load_settings
from aegis.engine.controls import finish_request, load_pending, pid_file
from aegis.engine.journal import DurableJournal
from aegis.engine.recovery import stored_next_sequence
from aegis.engine.session import RunSession
from aegis.model import (
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    client_order_id,
)
from aegis.model.order import Order
from aegis.risk import KillScope
from aegis.store import Store, sqlite_url
from aegis.venues.ccxt import CcxtVenue
from aegis.venues.emulator import errors as emulator_errors
from aegis.venues.emulator.call import Call
from aegis.venues.emulator.routes import ROUTES
from aegis.venues.emulator.server import EmulatorServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

KEY, SECRET = "key-kill-offline", "secret-kill-offline"
SYMBOL = "XRP/USDT:USDT"
TENANT, BOT = "acme", "B"
ENTRY_QUANTITY, RESTING_QUANTITY = Decimal(50), Decimal(20)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the config file locates the store and the venue: no AEGIS_ variable interferes."""
    for name in list(os.environ):
        if name.startswith("AEGIS_") and name != "AEGIS_TEST_PG_DSN":
            monkeypatch.delenv(name)


@pytest.fixture
async def server(bundled_data_dir: Path) -> AsyncIterator[EmulatorServer]:
    """A step-driven emulator on a free loopback port with the bot's funded account."""
    async with xrp_emulator(bundled_data_dir, KEY, SECRET) as emulator:
        yield emulator


@pytest.fixture
async def venue(server: EmulatorServer) -> AsyncIterator[CcxtVenue]:
    """The venue the bot's runtime traded through before it stopped."""
    async with bot_venue(server, KEY, SECRET) as opened:
        yield opened


@pytest.fixture
async def other_client(server: EmulatorServer) -> AsyncIterator[Any]:
    """A second ccxt client on the account: what the exchange really holds (ccxt is untyped)."""
    async with raw_client(server, KEY, SECRET) as exchange:
        yield exchange


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: SQLite in the config's data_dir (the default); else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    import psycopg

    admin = os.environ.get("AEGIS_TEST_PG_DSN") or DEFAULT_PG_DSN
    try:
        with psycopg.connect(_libpq(admin), connect_timeout=3, autocommit=True):
            pass
    except psycopg.Error as error:
        require_or_skip(f"PostgreSQL at AEGIS_TEST_PG_DSN unreachable: {error}".strip())
    databases = _PgDatabases(admin)
    try:
        yield databases.create()
    finally:
        databases.drop_all()


@dataclass(frozen=True, slots=True)
class BotFiles:
    """The bot's settings file and where its store is."""

    config: Path
    data_dir: Path
    store_url: str


def write_config(folder: Path, data_dir: Path, database_url: str | None, exchange_url: str) -> Path:
    """Write a live bot's TOML settings and its credentials file; return the settings file."""
    secrets = folder / "secrets.toml"
    secrets.write_text(f'api_key = "{KEY}"\napi_secret = "{SECRET}"\n', encoding="utf-8")
    database = f'url = "{database_url}"\n' if database_url is not None else ""
    config = folder / "bot.toml"
    config.write_text(
        f'mode = "live"\nbot_id = "{BOT}"\ndata_dir = "{data_dir}"\n'
        f'[database]\n{database}tenant = "{TENANT}"\n'
        f'[exchange]\nname = "emulator"\nurl = "{exchange_url}"\nsecrets_file = "{secrets}"\n'
        f'[market]\nsymbols = ["{SYMBOL}"]\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture
def bot_files(tmp_path: Path, database_url: str | None, server: EmulatorServer) -> BotFiles:
    data_dir = tmp_path / "bot-data"
    config = write_config(tmp_path, data_dir, database_url, server.base_url)
    return BotFiles(config, data_dir, database_url or sqlite_url(data_dir))


class RuntimeLike:
    """Trades like the runtime: intent first through the journal, then the venue, then the store."""

    def __init__(self, store: Store, venue: CcxtVenue) -> None:
        self.venue = venue
        self.journal = DurableJournal(store, TENANT, BOT, venue.instruments())
        self.sequence = stored_next_sequence(store, TENANT, BOT)

    async def place(self, side: OrderSide, quantity: Decimal, price: Decimal | None) -> Order:
        intent = Order(
            client_order_id=client_order_id(BOT, self.sequence),  # the order manager's ids
            bot_id=BOT,
            symbol=SYMBOL,
            side=side,
            type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=quantity,
            price=price,
            created_ns=1_800_000_000_000_000_000 + self.sequence,
            tag="entry",
        )
        self.sequence += 1
        self.journal.write_intent(intent)  # OR2: committed before the venue hears of it
        submit = OrderUpdate(intent.client_order_id, OrderEventKind.SUBMIT, intent.created_ns)
        submitted = self.apply(intent, submit)
        return self.apply(submitted, await self.venue.submit(submitted))

    def apply(self, order: Order, update: OrderUpdate) -> Order:
        after = order.apply(update)
        self.journal.record_update(after, update)  # order, event, fill, position: one transaction
        return after

    async def apply_fills(self, order: Order) -> Order:
        """Apply the venue's fills of ``order`` (what the user stream would have delivered)."""
        for fill in await self.venue.fetch_fills(SYMBOL):
            if fill.client_order_id == order.client_order_id:
                remaining = order.quantity - order.filled_quantity
                done = fill.quantity == remaining
                kind = OrderEventKind.FILL if done else OrderEventKind.PARTIAL_FILL
                order = self.apply(order, OrderUpdate(order.client_order_id, kind, fill.ts_ns,
                                                      fill=fill))  # fmt: skip
        return order


async def leave_bot_state(
    store: Store, venue: CcxtVenue, server: EmulatorServer, limit_factor: str = "0.7"
) -> tuple[Order, Order]:
    """Leave a long position and an accepted limit buy at ``limit_factor`` x the last price.

    Far below the market (0.7) the limit keeps resting; above it (1.04, inside the venue's
    price band of 1.05 x the mark) it fills at the next candle, but the store never hears of
    that fill (the runtime stopped first).
    """
    runtime = RuntimeLike(store, venue)
    entry = await runtime.place(OrderSide.BUY, ENTRY_QUANTITY, None)
    last = await venue.last_price(SYMBOL)
    assert last is not None
    price = venue.instruments()[SYMBOL].round_price(last * Decimal(limit_factor), OrderSide.BUY)
    limit = await runtime.place(OrderSide.BUY, RESTING_QUANTITY, price)
    server.step()  # the market order fills at the next candle's open
    entry = await runtime.apply_fills(entry)
    assert entry.status is OrderStatus.FILLED
    assert limit.status is OrderStatus.ACCEPTED
    [leg] = [p for p in store.positions(TENANT, BOT) if p.quantity > 0]
    assert (leg.side, leg.quantity) == (PositionSide.LONG, ENTRY_QUANTITY)
    return entry, limit


async def invoke(*args: str) -> Result:
    """Run the CLI in a thread: the emulator keeps serving from this test's event loop."""
    runner = CliRunner()
    return await asyncio.to_thread(lambda: runner.invoke(app, list(args)))


async def venue_position(other_client: Any) -> Decimal:
    positions = await other_client.fetch_positions([SYMBOL])
    return sum((Decimal(str(p["contracts"] or 0)) for p in positions), Decimal(0))


def assert_kill_request_pending(store: Store, request_id: str) -> None:
    """The request has no outcome row yet: the next start of the bot's runtime executes it."""
    [pending] = load_pending(store, TENANT)
    assert (pending.request_id, pending.action) == (request_id, "kill")
    assert pending.scope == KillScope.of_bot(TENANT, BOT)


async def start_and_stop_the_bot(config: Path, monkeypatch: pytest.MonkeyPatch) -> RunSession:
    """Start the bot's runtime from its settings file (as `aegis run --config` does) and stop
    it as soon as it trades: recovery and the pending controls run before that.

    The credentials come from the file's ``exchange.secrets_file``, as for the offline kill.
    """
    monkeypatch.delenv("AEGIS_EXCHANGE_SECRETS_FILE", raising=False)
    settings = load_settings(config, server={"port": 0}, runtime={"warmup_candles": 0})
    session = RunSession(settings, install_signal_handlers=False)
    session.on_started = lambda *_: session.supervisor.request_stop("test: started")
    await asyncio.wait_for(session.run(), 60)
    return session


async def test_kill_cancels_and_flattens_on_the_venue_and_latches_for_the_next_start(
    bot_files: BotFiles,
    venue: CcxtVenue,
    server: EmulatorServer,
    other_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Store(bot_files.store_url) as store:
        store.upgrade()
        _, resting = await leave_bot_state(store, venue, server)
        next_id = client_order_id(BOT, stored_next_sequence(store, TENANT, BOT))
    assert [o["clientOrderId"] for o in await other_client.fetch_open_orders(SYMBOL)] == [
        resting.client_order_id
    ]

    result = await invoke("kill", "--config", str(bot_files.config), "--bot", BOT,
                          "--actor", "alice", "--reason", "drill", "--json")  # fmt: skip

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["store"]["tenant"] == TENANT  # from [database] of the file
    assert answer["store"]["data_dir"] == str(bot_files.data_dir)
    offline = answer["offline"]
    assert offline["outcome"] == "executed_offline"
    assert offline["errors"] == []
    assert offline["resolved"] == []  # the venue agrees with the store: nothing to adopt
    assert offline["cancelled"] == [resting.client_order_id]
    assert offline["flatten_orders"] == [next_id]  # the store's sequence, after the bot's ids
    # the resting order is gone; the flatten waits for the next candle, as every emulator
    # market order does (it fills at the next candle's open)
    open_ids = [o["clientOrderId"] for o in await other_client.fetch_open_orders(SYMBOL)]
    assert open_ids == [next_id]
    server.step()
    assert await other_client.fetch_open_orders(SYMBOL) == []
    assert await venue_position(other_client) == 0
    venue_orders = await other_client.fetch_orders(SYMBOL)
    [venue_order] = [o for o in venue_orders if o["clientOrderId"] == next_id]
    assert venue_order["reduceOnly"] is True
    assert (venue_order["type"], venue_order["side"]) == ("market", "sell")
    assert Decimal(str(venue_order["amount"])) == ENTRY_QUANTITY

    with Store(bot_files.store_url) as store:
        flatten = store.get_order(TENANT, next_id)
        assert flatten is not None
        assert (flatten.tag, flatten.reduce_only, flatten.type) == ("kill", True, OrderType.MARKET)
        assert (flatten.side, flatten.quantity) == (OrderSide.SELL, ENTRY_QUANTITY)
        assert flatten.status is OrderStatus.ACCEPTED  # its fill is adopted at the next start
        cancelled = store.get_order(TENANT, resting.client_order_id)
        assert cancelled is not None
        assert cancelled.status is OrderStatus.CANCELLED
        audit = {(a.action, a.outcome, a.actor) for a in store.audit_log(TENANT)}
        assert audit == {("kill", "requested", "alice"), ("kill", "executed_offline", "alice")}
        assert_kill_request_pending(store, answer["request_id"])
    status = await invoke("status", "--config", str(bot_files.config), "--json")
    assert status.exit_code == 0, status.output
    assert [p["action"] for p in json.loads(status.stdout)["pending_controls"]] == ["kill"]

    # the next start: the flatten's fill is adopted, the kill is executed and latched
    session = await start_and_stop_the_bot(bot_files.config, monkeypatch)
    assert session.durable is not None
    assert session.durable.durability.kill_switch.latched() == [KillScope.of_bot(TENANT, BOT)]
    with Store(bot_files.store_url) as store:
        assert load_pending(store, TENANT) == []
        done = [a for a in store.audit_log(TENANT) if a.outcome == "done"]
        assert [(a.action, a.details["request_id"]) for a in done] == [
            ("kill", answer["request_id"])
        ]
        flatten = store.get_order(TENANT, next_id)
        assert flatten is not None
        assert flatten.status is OrderStatus.FILLED
        assert [p for p in store.positions(TENANT, BOT) if p.quantity > 0] == []
    assert server.stats()["unhandled_count"] == 0


def fail_cancels_of(monkeypatch: pytest.MonkeyPatch, venue_order_id: str) -> None:
    """The emulator answers every cancel of this one order with HTTP 500 / -1001."""
    key = ("DELETE", "/fapi/v1/order")
    route = ROUTES[key]

    def cancel(call: Call) -> Any:  # Any: the JSON body of the emulator's answer
        if call.params.get("orderId") == venue_order_id:
            raise emulator_errors.internal_error()
        return route.handler(call)

    monkeypatch.setitem(ROUTES, key, dataclasses.replace(route, handler=cancel))


async def test_a_failed_cancel_is_reported_and_the_position_is_still_flattened(
    bot_files: BotFiles,
    venue: CcxtVenue,
    server: EmulatorServer,
    other_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Store(bot_files.store_url) as store:
        store.upgrade()
        _, resting = await leave_bot_state(store, venue, server)
    assert resting.venue_order_id is not None
    fail_cancels_of(monkeypatch, resting.venue_order_id)

    result = await invoke("kill", "--config", str(bot_files.config), "--bot", BOT, "--json")

    assert result.exit_code == 4, result.output  # something was left undone: look at errors
    offline = json.loads(result.stdout)["offline"]
    assert offline["outcome"] == "partially_executed_offline"
    assert offline["cancelled"] == []
    [error] = offline["errors"]
    assert error.startswith(f"cancel {resting.client_order_id}:")
    [flatten_id] = offline["flatten_orders"]  # the flatten was still sent
    server.step()
    assert await venue_position(other_client) == 0
    open_ids = [o["clientOrderId"] for o in await other_client.fetch_open_orders(SYMBOL)]
    assert open_ids == [resting.client_order_id]  # the one the venue would not cancel
    with Store(bot_files.store_url) as store:
        flatten = store.get_order(TENANT, flatten_id)
        assert flatten is not None
        assert flatten.tag == "kill"
        [outcome] = [a for a in store.audit_log(TENANT) if a.outcome != "requested"]
        assert outcome.outcome == "partially_executed_offline"
        assert outcome.details["errors"] == [error]


async def test_a_fill_the_store_missed_is_adopted_first_and_the_whole_position_flattened(
    bot_files: BotFiles, venue: CcxtVenue, server: EmulatorServer, other_client: Any
) -> None:
    with Store(bot_files.store_url) as store:
        store.upgrade()
        _, missed = await leave_bot_state(store, venue, server, limit_factor="1.04")
    held = ENTRY_QUANTITY + RESTING_QUANTITY
    assert await venue_position(other_client) == held  # the store still says 50

    result = await invoke("kill", "--config", str(bot_files.config), "--bot", BOT, "--json")

    assert result.exit_code == 0, result.output
    offline = json.loads(result.stdout)["offline"]
    assert offline["resolved"] == [f"{missed.client_order_id}: accepted -> filled"]
    assert (offline["cancelled"], offline["errors"]) == ([], [])  # nothing left to cancel
    [flatten_id] = offline["flatten_orders"]
    with Store(bot_files.store_url) as store:
        flatten = store.get_order(TENANT, flatten_id)
        assert flatten is not None
        assert flatten.quantity == held
    server.step()
    assert await venue_position(other_client) == 0

    # a second kill finds the flatten filled and nothing left: no new order, no error
    again = await invoke("kill", "--config", str(bot_files.config), "--bot", BOT, "--json")
    assert again.exit_code == 0, again.output
    offline = json.loads(again.stdout)["offline"]
    assert offline["resolved"] == [f"{flatten_id}: accepted -> filled"]
    assert (offline["planned_cancels"], offline["planned_flattens"]) == (0, 0)
    assert (offline["flatten_orders"], offline["errors"]) == ([], [])
    venue_ids = sorted(o["clientOrderId"] for o in await other_client.fetch_orders(SYMBOL))
    assert venue_ids == sorted([client_order_id(BOT, 1), missed.client_order_id, flatten_id])


async def test_a_config_with_an_empty_data_dir_has_nothing_to_do_and_leaves_the_venue_alone(
    tmp_path: Path, venue: CcxtVenue, server: EmulatorServer, other_client: Any
) -> None:
    bot_data = tmp_path / "bot-data"
    with Store(sqlite_url(bot_data)) as store:
        store.upgrade()
        await leave_bot_state(store, venue, server)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    config = write_config(empty, empty / "data", None, server.base_url)
    before = server.stats()["requests"]

    result = await invoke("kill", "--config", str(config), "--bot", BOT, "--json")

    assert result.exit_code == 0, result.output
    offline = json.loads(result.stdout)["offline"]
    assert offline["outcome"] == "nothing_to_do"
    assert (offline["planned_cancels"], offline["planned_flattens"]) == (0, 0)
    assert "no bot of bot:acme/B in the store" in offline["note"]
    assert server.stats()["requests"] == before  # not one request reached the emulator
    assert len(await other_client.fetch_open_orders(SYMBOL)) == 1
    assert await venue_position(other_client) == ENTRY_QUANTITY


async def test_a_tenant_kill_with_one_bot_running_still_kills_the_stopped_bot_here(
    bot_files: BotFiles,
    venue: CcxtVenue,
    server: EmulatorServer,
    other_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bot A's runtime runs (it gets the request); bot B is stopped: its orders are killed now."""
    with Store(bot_files.store_url) as store:
        store.upgrade()
        _, resting = await leave_bot_state(store, venue, server)
        store.ensure_bot(TENANT, "A")
    running = pid_file(bot_files.data_dir, "A")
    running.parent.mkdir(parents=True, exist_ok=True)
    running.write_text(str(os.getpid()), encoding="utf-8")  # a live pid: A "runs"

    result = await invoke("kill", "--config", str(bot_files.config), "--wait", "0.2", "--json")

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["scope"] == KillScope.of_tenant(TENANT).to_json()
    assert answer["runtime"] == ["A"]
    assert answer["result"] is None  # A's runtime is a pid file here: it never answers
    offline = answer["offline"]
    assert offline["outcome"] == "executed_offline"
    assert offline["cancelled"] == [resting.client_order_id]
    [flatten_id] = offline["flatten_orders"]
    server.step()
    assert await other_client.fetch_open_orders(SYMBOL) == []
    assert await venue_position(other_client) == 0
    with Store(bot_files.store_url) as store:
        flatten = store.get_order(TENANT, flatten_id)
        assert flatten is not None
        assert flatten.bot_id == BOT  # nothing was planned for the running bot
        # A's runtime executes the request and writes its outcome...
        [request] = load_pending(store, TENANT)
        finish_request(store, TENANT, request, "done", bot_id="A")
        assert load_pending(store, TENANT) == []
        assert [r.request_id for r in load_pending(store, TENANT, BOT)] == [request.request_id]
    running.unlink()
    # ...and B, stopped then, still executes it at its next start: its kill switch latches
    session = await start_and_stop_the_bot(bot_files.config, monkeypatch)
    assert session.durable is not None
    assert session.durable.durability.kill_switch.latched() == [KillScope.of_tenant(TENANT)]
    with Store(bot_files.store_url) as store:
        assert load_pending(store, TENANT, BOT) == []
