"""Capital reservations for pending intents (RK2).

An approved entry reserves its notional before the order exists; the reservation is released
when the order fills (the exposure then lives in the position), is cancelled or is rejected.
The check "held + amount <= limit" and the insert must be one atomic step, or two concurrent
signals could each see room for themselves and together exceed the limit. The durable
implementation is ``aegis.store.Store`` (row lock / ``BEGIN IMMEDIATE``); risk cannot import the
store (layers), so it talks to it through the ``ReservationBackend`` protocol.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Final, Protocol

_ZERO: Final = Decimal(0)


class CapitalReservations(Protocol):
    """Atomic per-bot capital reservations keyed by client order id."""

    def reserve(self, bot: str, client_order_id: str, amount: Decimal, limit: Decimal) -> bool:
        """Hold ``amount`` unless the bot's held total would pass ``limit``; True if held.

        Reserving an id that already holds a reservation returns True and holds nothing more.
        """
        ...

    def release(self, bot: str, client_order_id: str) -> bool:
        """Release the capital held for ``client_order_id``; False if none was held."""
        ...

    def reserved(self, bot: str) -> Decimal:
        """Return the capital the bot's pending intents hold."""
        ...


def _check(client_order_id: str, amount: Decimal, limit: Decimal) -> None:
    if amount <= _ZERO:
        raise ValueError(f"reservation amount {amount} for {client_order_id!r} must be positive")
    if limit < _ZERO:
        raise ValueError(f"reservation limit {limit} for {client_order_id!r} must not be negative")


class InMemoryCapitalReservations:
    """Process-local reservations (backtests, paper without a database).

    A lock makes check-and-hold one step, so threads sharing an instance behave like the
    database: operations are atomic and take effect in some sequential order.
    """

    __slots__ = ("_held", "_lock", "_released")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, dict[str, Decimal]] = {}
        self._released: set[tuple[str, str]] = set()

    def reserve(self, bot: str, client_order_id: str, amount: Decimal, limit: Decimal) -> bool:
        """Hold ``amount`` for ``client_order_id`` unless the total would pass ``limit``.

        Raises ``ValueError`` for a non-positive amount, a negative limit, or an id whose
        reservation was already released (an order reserves once, like the store).
        """
        if amount <= _ZERO or limit < _ZERO:  # _check raises; the valid call makes no call
            _check(client_order_id, amount, limit)
        with self._lock:
            # get first: setdefault would build an empty dict on every call
            held = self._held.get(bot)
            if held is None:
                held = self._held[bot] = {}
            elif client_order_id in held:
                return True
            if (bot, client_order_id) in self._released:
                raise ValueError(
                    f"reservation of order {client_order_id!r} (bot {bot!r}) was released; "
                    "an order reserves capital once"
                )
            # nothing held (the usual case in a backtest): no sum to start
            if (sum(held.values(), _ZERO) if held else _ZERO) + amount > limit:
                return False
            held[client_order_id] = amount
            return True

    def release(self, bot: str, client_order_id: str) -> bool:
        """Release the capital held for ``client_order_id``; False if none was held."""
        with self._lock:
            held = self._held.get(bot)
            amount = None if held is None else held.pop(client_order_id, None)
            if amount is None:
                return False
            self._released.add((bot, client_order_id))
            return True

    def reserved(self, bot: str) -> Decimal:
        """Return the capital held by ``bot``."""
        with self._lock:
            return sum(self._held.get(bot, {}).values(), _ZERO)


class ReservationBackend(Protocol):
    """What ``aegis.store.Store`` offers for reservations (tenant-scoped, durable, atomic)."""

    def reserve_capital(
        self, tenant: str, bot_id: str, order_id: str, amount: Decimal, limit: Decimal
    ) -> bool:
        """Hold ``amount`` atomically unless the bot's total would pass ``limit``."""
        ...

    def release_reservation(self, tenant: str, bot_id: str, order_id: str) -> bool:
        """Release the reservation of ``order_id``."""
        ...

    def reserved_capital(self, tenant: str, bot_id: str) -> Decimal:
        """Return the capital the bot holds."""
        ...


class TenantCapitalReservations:
    """``CapitalReservations`` of one tenant on top of a durable backend (the store)."""

    __slots__ = ("_backend", "tenant")

    def __init__(self, backend: ReservationBackend, tenant: str) -> None:
        if not tenant:
            raise ValueError("tenant for capital reservations must not be empty")
        self._backend = backend
        self.tenant = tenant

    @property
    def backend(self) -> ReservationBackend:
        """Return the durable backend the reservations go through."""
        return self._backend

    def reserve(self, bot: str, client_order_id: str, amount: Decimal, limit: Decimal) -> bool:
        """Reserve through the backend, in one database transaction."""
        return self._backend.reserve_capital(self.tenant, bot, client_order_id, amount, limit)

    def release(self, bot: str, client_order_id: str) -> bool:
        """Release through the backend."""
        return self._backend.release_reservation(self.tenant, bot, client_order_id)

    def reserved(self, bot: str) -> Decimal:
        """Return the capital held, as the backend sees it."""
        return self._backend.reserved_capital(self.tenant, bot)
