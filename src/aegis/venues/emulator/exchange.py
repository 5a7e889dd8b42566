"""The emulated exchange without any transport: markets, accounts, replay steps, market data."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aegis.venues.emulator.config import AccountSpec, EmulatorConfig
from aegis.venues.emulator.engine import AccountVenue, build_instruments
from aegis.venues.emulator.ledger import FuturesLedger, SpotLedger
from aegis.venues.emulator.markets import (
    MARKET_KINDS,
    MarketKind,
    SymbolSpec,
    load_metadata,
    price_tick_for,
    synthesize_entry,
)
from aegis.venues.emulator.records import fmt
from aegis.venues.emulator.replay import CandleFeed, PublishedCandle, ReplayData, load_replay_data
from aegis.venues.sim import FillModel

MarketEvent = tuple[MarketKind, str, dict[str, Any]]  # market, stream name, payload
UserEvent = tuple[str, MarketKind, dict[str, Any]]  # api key, market, payload


def to_decimal(value: float) -> Decimal:
    """Float market data to Decimal through the shortest repr (never Decimal(float))."""
    return Decimal(repr(float(value)))


def price_text(value: float) -> str:
    """A float price as Binance writes it."""
    return fmt(to_decimal(value))


@dataclass(slots=True)
class Account:
    """One API key with its secret and one venue per market."""

    spec: AccountSpec
    venues: dict[MarketKind, AccountVenue] = field(default_factory=dict)


class EmulatedExchange:
    """Markets built from real metadata plus the replayed files, accounts, and the replay clock."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.data: ReplayData = load_replay_data(config.data_files)
        self.specs: dict[MarketKind, dict[str, SymbolSpec]] = {
            kind: self._build_specs(kind) for kind in MARKET_KINDS
        }
        self._instruments = {
            kind: build_instruments(kind, specs) for kind, specs in self.specs.items()
        }
        self._ids: Iterator[int] = itertools.count(10_000_001)
        self.accounts: dict[str, Account] = {}
        self.candles_published = 0
        for feed in self.data.candles:
            feed.cursor = min(config.history_candles, len(feed.candles))
            # --speed X counts from here: the history is already closed when the clock starts.
            feed.mark_replay_start()
        for account in config.accounts:
            self.add_account(account)

    # ---------------------------------------------------------------- markets
    def _build_specs(self, kind: MarketKind) -> dict[str, SymbolSpec]:
        metadata = load_metadata(kind)
        specs = {
            symbol_id: SymbolSpec.from_entry(kind, entry)
            for symbol_id, entry in metadata.items()
            if entry.get("status") == "TRADING"
        }
        for feed in self.data.candles:
            if kind not in feed.markets or feed.symbol_id in specs:
                continue
            known = metadata.get(feed.symbol_id)
            if known is not None:
                entry = dict(known, status="TRADING")
            else:
                sample = [float(x) for x in feed.candles.close[:500]]
                base, quote = self._split(feed)
                entry = synthesize_entry(kind, base, quote, metadata, price_tick_for(sample))
            specs[feed.symbol_id] = SymbolSpec.from_entry(kind, entry)
        return specs

    @staticmethod
    def _split(feed: CandleFeed) -> tuple[str, str]:
        symbol = feed.candles.symbol or ""
        pair = symbol.split(":")[0]
        base, _, quote = pair.partition("/")
        if not base or not quote:
            raise ValueError(f"cannot tell base and quote of {feed.symbol_id} ({symbol!r})")
        base = "BTC" if base == "XBT" else base
        quote = "BTC" if quote == "XBT" else quote
        return base, quote

    def exchange_info(self, kind: MarketKind) -> list[dict[str, Any]]:
        """The symbols of ``/fapi/v1/exchangeInfo`` or ``/api/v3/exchangeInfo``."""
        return [spec.entry for spec in self.specs[kind].values()]

    def spec(self, kind: MarketKind, symbol_id: str) -> SymbolSpec | None:
        """The symbol's filters, None when it is not listed."""
        return self.specs[kind].get(symbol_id)

    def feed(self, kind: MarketKind, symbol_id: str) -> CandleFeed | None:
        """The candle feed that drives the symbol's price, None without data."""
        return self.data.primary(kind, symbol_id)

    def now_ms(self, kind: MarketKind, symbol_id: str) -> int:
        """History time of a symbol (of the first feed for a symbol without data)."""
        feed = self.feed(kind, symbol_id) or self.data.candles[0]
        return feed.now_ms()

    def last_price(self, kind: MarketKind, symbol_id: str) -> Decimal:
        """Last traded price: the close of the symbol's newest closed candle."""
        feed = self.feed(kind, symbol_id)
        if feed is None:
            spec = self.specs[kind][symbol_id]
            return spec.min_price if spec.min_price > 0 else spec.tick_size
        return to_decimal(feed.last_price())

    # ---------------------------------------------------------------- accounts
    def add_account(self, spec: AccountSpec) -> Account:
        """Open an account with its balances on both markets."""
        fill_spec = self.config.fill_model
        fill_model = FillModel(
            slippage_bps=fill_spec.slippage_bps,
            max_volume_share=fill_spec.max_volume_share,
            latency_ms=fill_spec.latency_ms,
            seed=fill_spec.seed,
        )
        account = Account(spec)
        specs = self.specs["usdm"]
        funding = {
            specs[feed.symbol_id].unified_symbol: feed.funding
            for feed in self.data.funding
            if feed.symbol_id in specs
        }
        for kind in MARKET_KINDS:
            ledger: FuturesLedger | SpotLedger
            if kind == "usdm":
                ledger = FuturesLedger(
                    {spec.margin_asset: spec.balance}, self.config.default_leverage
                )
            else:
                ledger = SpotLedger({spec.margin_asset: spec.balance, **spec.spot_balances})
            account.venues[kind] = AccountVenue(
                kind,
                self.specs[kind],
                self._instruments[kind],
                fill_model,
                self._ids,
                lambda symbol_id, k=kind: self.now_ms(k, symbol_id),  # type: ignore[misc]
                lambda symbol_id, k=kind: self.last_price(k, symbol_id),  # type: ignore[misc]
                ledger,
                funding if kind == "usdm" else None,
            )
        self.accounts[spec.api_key] = account
        return account

    def drain_user_events(self) -> list[UserEvent]:
        """Every user-stream event produced since the last call, per account."""
        events: list[UserEvent] = []
        for key, account in self.accounts.items():
            for kind, venue in account.venues.items():
                events.extend((key, kind, payload) for payload in venue.outbox)
                venue.outbox.clear()
        return events

    # ---------------------------------------------------------------- replay
    def schedule_gap(self, candles: int, *, stream_only: bool) -> None:
        """Leave the next ``candles`` candles of every feed out (of the stream only, or of all)."""
        for feed in self.data.candles:
            target = feed.stream_hidden if stream_only else feed.hidden
            target.update(range(feed.cursor, feed.cursor + candles))

    @property
    def is_exhausted(self) -> bool:
        """True once every candle feed has been replayed to its end."""
        return all(feed.exhausted for feed in self.data.candles)

    def step(self, candles: int = 1) -> list[MarketEvent]:
        """Close the next ``candles`` candles of every feed; match orders; return market events."""
        events: list[MarketEvent] = []
        for _ in range(candles):
            for feed in self.data.candles:
                published = feed.advance()
                if published is not None:
                    events.extend(self._publish(published))
        return events

    def advance_to(self, offset_ms: int) -> list[MarketEvent]:
        """Close every candle that ends within ``offset_ms`` of history after each feed's replay
        start (the first candle after the ``history_candles`` closed at start)."""
        events: list[MarketEvent] = []
        for feed in self.data.candles:
            start = feed.replay_origin_ms()
            while not feed.exhausted and feed.close_time_ms(feed.cursor) < start + offset_ms:
                published = feed.advance()
                if published is not None:
                    events.extend(self._publish(published))
        return events

    def _publish(self, published: PublishedCandle) -> list[MarketEvent]:
        feed, index = published.feed, published.index
        candles = feed.candles
        values = (
            float(candles.open[index]),
            float(candles.high[index]),
            float(candles.low[index]),
            float(candles.close[index]),
            float(candles.volume[index]),
        )
        ts_ms = int(candles.ts_ms[index])
        from aegis.venues.emulator.streams import candle_events, trade_events

        events: list[MarketEvent] = []
        kinds = [k for k in feed.markets if self.data.primary(k, feed.symbol_id) is feed]
        for trade_feed in self.data.trades:
            trade_kinds = [k for k in kinds if k in trade_feed.markets]
            if trade_feed.symbol_id != feed.symbol_id or not trade_kinds:
                continue
            # One cursor per trade file: publish once, then on every market that lists it.
            indices = trade_feed.advance_until(feed.now_ms())
            if published.on_stream:
                for kind in trade_kinds:
                    events.extend(trade_events(kind, trade_feed, indices))
        for kind in kinds:
            for account in self.accounts.values():
                account.venues[kind].on_candle(feed.symbol_id, ts_ms, values)
        self.candles_published += 1
        if published.on_stream:
            events.extend(candle_events(self, feed, index))
        return events
