"""Real Binance exchangeInfo metadata, symbols for replayed files, and order filter checks."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from aegis.venues.emulator import errors
from aegis.venues.emulator.errors import BinanceError
from aegis.venues.emulator.order_limits import OrderLimits

MarketKind = Literal["usdm", "spot"]
MARKET_KINDS: tuple[MarketKind, ...] = ("usdm", "spot")

_METADATA_FILES: dict[MarketKind, str] = {"usdm": "binance-usdm.json", "spot": "binance-spot.json"}
# Kraken calls bitcoin XBT; Binance calls it BTC.
_ASSET_ALIASES = {"XBT": "BTC"}
_FILE_NAME = re.compile(
    r"^(?P<exchange>[A-Za-z0-9-]+?)_(?P<base>[A-Za-z0-9]+)-(?P<quote>[A-Za-z0-9]+)"
    r"(?P<perp>-PERP)?_(?P<kind>[A-Za-z0-9-]+)\.(csv|csv\.gz|parquet)$"
)


@dataclass(frozen=True, slots=True)
class DataFileName:
    """What a file name in the shared data format says about its content."""

    exchange: str
    base: str
    quote: str
    is_perpetual: bool
    kind: str  # a timeframe such as "5m", or "trades", "8h-funding", "1h-mark"

    @property
    def symbol_id(self) -> str:
        """Binance's symbol id, e.g. ``XRPUSDT``."""
        return f"{self.base}{self.quote}"

    @property
    def markets(self) -> tuple[MarketKind, ...]:
        """Markets the file is listed on: perpetual data on USD-M only, other data on both."""
        return ("usdm",) if self.is_perpetual or self.exchange == "binance-usdm" else MARKET_KINDS


def parse_data_file_name(path: Path) -> DataFileName:
    """Parse ``<exchange>_<BASE>-<QUOTE>[-PERP]_<timeframe|trades>.csv.gz``.

    Raises ValueError naming the file when the name does not follow the format.
    """
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise ValueError(
            f"data file name {path.name!r} does not match "
            "<exchange>_<BASE>-<QUOTE>[-PERP]_<timeframe|trades>.csv.gz"
        )
    base = match["base"].upper()
    quote = match["quote"].upper()
    is_perpetual = match["perp"] is not None
    if quote == "PERP":
        # FTX-style "BTC-PERP" is a USD-margined perpetual
        quote, is_perpetual = "USD", True
    return DataFileName(
        exchange=match["exchange"].lower(),
        base=_ASSET_ALIASES.get(base, base),
        quote=_ASSET_ALIASES.get(quote, quote),
        is_perpetual=is_perpetual,
        kind=match["kind"],
    )


def load_metadata(kind: MarketKind) -> dict[str, dict[str, Any]]:
    """Return the bundled real exchangeInfo entries of ``kind``, keyed by symbol id."""
    text = (
        resources.files("aegis").joinpath("resources", "markets", _METADATA_FILES[kind]).read_text()
    )
    document = json.loads(text)
    return {entry["symbol"]: entry for entry in document["symbols"]}


def _decimals(text: str) -> int:
    """Decimals of a decimal string without its trailing zeros ("0.0100" -> 2)."""
    value = Decimal(text).normalize()
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def synthesize_entry(
    kind: MarketKind,
    base: str,
    quote: str,
    metadata: dict[str, dict[str, Any]],
    tick_size: Decimal,
) -> dict[str, Any]:
    """Build an exchangeInfo entry for a symbol the snapshot lacks.

    It copies a real entry with the same quote asset (filters, types, fields) and sets the
    symbol, assets and a tick size that fits the replayed prices.
    """
    same_quote = [e for e in metadata.values() if e.get("quoteAsset") == quote]
    trading = [e for e in same_quote if e.get("status") == "TRADING"] or same_quote
    template = trading[0] if trading else metadata["BTCUSDT"]
    entry = copy.deepcopy(template)
    entry["symbol"] = f"{base}{quote}"
    entry["baseAsset"] = base
    entry["quoteAsset"] = quote
    entry["status"] = "TRADING"
    tick_text = format(tick_size.normalize(), "f")
    if kind == "usdm":
        entry["pair"] = f"{base}{quote}"
        entry["contractType"] = "PERPETUAL"
        entry["marginAsset"] = quote
        entry["pricePrecision"] = _decimals(tick_text)
    for filt in entry["filters"]:
        if filt["filterType"] == "PRICE_FILTER":
            filt["tickSize"] = tick_text
            filt["minPrice"] = tick_text
    return entry


def price_tick_for(prices: list[float]) -> Decimal:
    """The coarsest tick (10^-d, d <= 8) on which every sampled price lies."""
    decimals = 0
    for price in prices:
        decimals = max(decimals, _decimals(repr(price)))
    return Decimal(1).scaleb(-min(decimals, 8))


def _filter(entry: dict[str, Any], name: str) -> dict[str, Any] | None:
    for filt in entry["filters"]:
        if filt["filterType"] == name:
            return dict(filt)
    return None


def _dec(filt: dict[str, Any] | None, key: str, default: str) -> Decimal:
    if filt is None or filt.get(key) is None:
        return Decimal(default)
    return Decimal(str(filt[key]))


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One tradable symbol with its filters as Decimals and its raw exchangeInfo entry."""

    kind: MarketKind
    symbol_id: str
    base: str
    quote: str
    entry: dict[str, Any]
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step_size: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    price_precision: int
    quantity_precision: int
    limits: OrderLimits

    @classmethod
    def from_entry(cls, kind: MarketKind, entry: dict[str, Any]) -> SymbolSpec:
        """Read the filters of a raw exchangeInfo entry."""
        price = _filter(entry, "PRICE_FILTER")
        lot = _filter(entry, "LOT_SIZE")
        market_lot = _filter(entry, "MARKET_LOT_SIZE") or lot
        notional = _filter(entry, "MIN_NOTIONAL") or _filter(entry, "NOTIONAL")
        min_notional = _dec(notional, "notional", "0") if kind == "usdm" else Decimal(0)
        if kind == "spot":
            min_notional = _dec(notional, "minNotional", "0")
        step = _dec(lot, "stepSize", "0.00000001")
        market_step = _dec(market_lot, "stepSize", "0") or step
        market_max = _dec(market_lot, "maxQty", "0") or _dec(lot, "maxQty", "9e15")
        tick = _dec(price, "tickSize", "0.00000001")
        return cls(
            kind=kind,
            symbol_id=entry["symbol"],
            base=entry["baseAsset"],
            quote=entry["quoteAsset"],
            entry=entry,
            tick_size=tick,
            min_price=_dec(price, "minPrice", "0"),
            max_price=_dec(price, "maxPrice", "0"),
            step_size=step,
            min_qty=_dec(lot, "minQty", "0"),
            max_qty=_dec(lot, "maxQty", "9e15"),
            market_step_size=market_step,
            market_min_qty=_dec(market_lot, "minQty", "0"),
            market_max_qty=market_max,
            min_notional=min_notional,
            limits=OrderLimits.from_filters(kind, entry["filters"]),
            price_precision=int(entry.get("pricePrecision", _decimals(str(tick)))),
            quantity_precision=int(
                entry.get(
                    "quantityPrecision", entry.get("baseAssetPrecision", _decimals(str(step)))
                )
            ),
        )

    @property
    def unified_symbol(self) -> str:
        """The ccxt symbol (``XRP/USDT:USDT`` or ``XRP/USDT``)."""
        if self.kind == "usdm":
            return f"{self.base}/{self.quote}:{self.quote}"
        return f"{self.base}/{self.quote}"

    def check_order(
        self,
        *,
        is_market: bool,
        quantity: Decimal,
        price: Decimal | None,
        reference_price: Decimal,
        reduce_only: bool,
    ) -> BinanceError | None:
        """Check an order against the filters; return Binance's error or None."""
        if self.kind == "usdm":
            return self._check_futures(is_market, quantity, price, reference_price, reduce_only)
        return self._check_spot(is_market, quantity, price, reference_price)

    def _check_futures(
        self,
        is_market: bool,
        quantity: Decimal,
        price: Decimal | None,
        reference: Decimal,
        reduce_only: bool,
    ) -> BinanceError | None:
        if quantity <= 0:
            return errors.quantity_not_positive()
        if _decimals(str(quantity)) > self.quantity_precision:
            return errors.precision_over_maximum()
        price_error = None if price is None else self._check_futures_price(price)
        if price_error is not None:
            return price_error
        step, low, high = self._lot(is_market)
        if quantity < low:
            return errors.quantity_below_min()
        if quantity > high:
            return errors.quantity_above_max()
        if step > 0 and quantity % step != 0:
            return errors.quantity_not_multiple_of_step()
        notional = quantity * (reference if price is None else price)
        if not reduce_only and notional < self.min_notional:
            return errors.min_notional(format(self.min_notional.normalize(), "f"))
        return None

    def _check_futures_price(self, price: Decimal) -> BinanceError | None:
        if _decimals(str(price)) > self.price_precision:
            return errors.precision_over_maximum()
        if price % self.tick_size != 0:
            return errors.price_not_multiple_of_tick()
        if price < self.min_price:
            return errors.price_out_of_range("min")
        if self.max_price > 0 and price > self.max_price:
            return errors.price_out_of_range("max")
        return None

    def _check_spot(
        self, is_market: bool, quantity: Decimal, price: Decimal | None, reference: Decimal
    ) -> BinanceError | None:
        if quantity <= 0:
            return errors.spot_filter_failure("LOT_SIZE")
        if _decimals(str(quantity)) > self.quantity_precision:
            return errors.precision_over_maximum()
        if price is not None and (
            price % self.tick_size != 0
            or price < self.min_price
            or (self.max_price > 0 and price > self.max_price)
        ):
            return errors.spot_filter_failure("PRICE_FILTER")
        step, low, high = self._lot(is_market)
        if quantity < low or quantity > high or (step > 0 and quantity % step != 0):
            return errors.spot_filter_failure("MARKET_LOT_SIZE" if is_market else "LOT_SIZE")
        if quantity * (reference if price is None else price) < self.min_notional:
            return errors.spot_filter_failure("NOTIONAL")
        return None

    def _lot(self, is_market: bool) -> tuple[Decimal, Decimal, Decimal]:
        if is_market:
            return self.market_step_size, self.market_min_qty, self.market_max_qty
        return self.step_size, self.min_qty, self.max_qty
