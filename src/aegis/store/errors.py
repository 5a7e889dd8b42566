"""Errors raised by the store; all derive from ``aegis.model.AegisError``."""

from __future__ import annotations

from aegis.model import AegisError


class StoreError(AegisError):
    """The store refused a write or could not answer; the message names the record."""


class DuplicateIntent(StoreError):
    """An order with this client order id is already recorded for the tenant (OR2)."""


class DuplicateFill(StoreError):
    """This fill (order, venue trade id) is already stored: the update was applied before."""


class UnknownOrder(StoreError):
    """No order with this client order id is recorded for the tenant."""
