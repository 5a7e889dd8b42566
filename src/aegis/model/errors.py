"""One error hierarchy for the whole code base; the class name tells the caller what to do."""

from __future__ import annotations

from aegis.model.enums import RejectReason


class AegisError(Exception):
    """Base of every error Aegis raises on purpose."""


class ConfigError(AegisError):
    """Stop at start-up and fix the configuration named in the message."""


class DataError(AegisError):
    """Input data is unusable; the message names the file, the line and the problem."""


class StaleDataError(AegisError):
    """A series has an unfilled gap or is too old to decide on."""


class OrderRejected(AegisError):
    """Local validation failed; nothing was sent to a venue; ``reason`` says which filter."""

    def __init__(self, message: str, reason: RejectReason | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class IllegalTransition(AegisError):
    """An order event is not allowed in the order's state: a bug or a venue contract breach."""


class VenueError(AegisError):
    """A venue answered with an error that retrying will not fix."""


class AuthenticationError(VenueError):
    """Credentials were refused (bad key, bad signature, clock outside the window)."""


class InsufficientFunds(VenueError):
    """The account lacks the balance or margin for the order."""


class OrderNotFound(VenueError):
    """The venue does not know the order."""


class DuplicateClientOrderId(VenueError):
    """The venue already has an order with this client order id."""


class TransientVenueError(VenueError):
    """A temporary failure (timeout, 5xx, network): retry with back-off."""


class RateLimited(TransientVenueError):
    """The venue asked us to slow down: back off globally."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
