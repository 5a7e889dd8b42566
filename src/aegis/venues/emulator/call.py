"""One REST call as the handlers see it: parameters, the account, and typed readers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from aegis.venues.emulator import errors
from aegis.venues.emulator.markets import MarketKind, SymbolSpec

if TYPE_CHECKING:
    from aegis.venues.emulator.engine import AccountVenue
    from aegis.venues.emulator.exchange import EmulatedExchange
    from aegis.venues.emulator.faults import FaultState
    from aegis.venues.emulator.listen_keys import ListenKeys


@dataclass(slots=True)
class Call:
    """Parameters and context of one request."""

    exchange: EmulatedExchange
    kind: MarketKind
    params: dict[str, str]
    api_key: str | None
    wall_ms: int
    faults: FaultState
    listen_keys: ListenKeys

    @property
    def venue(self) -> AccountVenue:
        """The caller's venue on this market (signed endpoints only)."""
        return self.exchange.accounts[self.require_api_key()].venues[self.kind]

    def require_api_key(self) -> str:
        """The authenticated API key (routes with API-key or signed security only)."""
        if self.api_key is None:
            raise RuntimeError("route needs an API key but was declared public")
        return self.api_key

    def text(self, name: str) -> str:
        """A mandatory parameter; -1102 when missing or empty."""
        value = self.params.get(name)
        if value is None or value == "":
            raise errors.mandatory_parameter(name)
        return value

    def optional(self, name: str) -> str | None:
        """An optional parameter (None when missing or empty)."""
        value = self.params.get(name)
        return None if value is None or value == "" else value

    def decimal(self, name: str) -> Decimal | None:
        """An optional decimal parameter; -1100 when it is not a positive-or-zero number."""
        value = self.optional(name)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation as exc:
            raise errors.illegal_parameter(name, value) from exc
        if not number.is_finite():
            raise errors.illegal_parameter(name, value)
        return number

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An optional integer parameter; -1100 when it is not an integer."""
        value = self.optional(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise errors.illegal_parameter(name, value) from exc

    def flag(self, name: str) -> bool:
        """A boolean parameter ("true"/"false")."""
        return (self.optional(name) or "false").lower() == "true"

    def limit(self, default: int, maximum: int) -> int:
        """The ``limit`` parameter clamped to Binance's maximum."""
        value = self.integer("limit")
        return max(1, min(default if value is None else value, maximum))

    def symbol(self) -> SymbolSpec:
        """The mandatory ``symbol``; -1121 when it is not listed."""
        spec = self.exchange.spec(self.kind, self.text("symbol").upper())
        if spec is None:
            raise errors.invalid_symbol()
        return spec

    def optional_symbol(self) -> SymbolSpec | None:
        """The optional ``symbol``; -1121 when given but not listed."""
        if self.optional("symbol") is None:
            return None
        return self.symbol()
