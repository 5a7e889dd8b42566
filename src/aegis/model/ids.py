"""Deterministic client order ids (OR2): a pure function of (bot id, intent sequence number)."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Final

CLIENT_ORDER_ID_PATTERN: Final = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}\Z")
MAX_SEQUENCE: Final = 36**12 - 1
_RAW_BOT_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"
# Two separators keep the two forms disjoint: a readable bot id is followed by ".", a hashed
# one by ":"; neither character can occur inside a readable bot id, so ids never collide.
_RAW_SEPARATOR: Final = "."
_HASHED_SEPARATOR: Final = ":"


@dataclass(frozen=True, slots=True)
class ClientOrderIdParts:
    """What ``parse_client_order_id`` recovers: the bot key (bot id or its hash) and sequence."""

    bot_key: str
    sequence: int
    is_hashed: bool


# Base-36 two digits at a time: half the divmod steps of a digit-by-digit loop (hot path).
_PAIRS: Final = tuple(a + b for a in _DIGITS for b in _DIGITS)  # "00" .. "zz", zero-padded
_SMALL: Final = tuple(pair.lstrip("0") or "0" for pair in _PAIRS)  # "0" .. "zz", no padding
_PAIR_BASE: Final = 36 * 36
_FOUR_DIGITS: Final = _PAIR_BASE * _PAIR_BASE  # sequences below this are at most two pairs
# bot id -> its id prefix, for the ids' fast path (a dict lookup costs less than the lru_cache)
_PREFIXES: dict[str, str] = {}
_MAX_PREFIXES: Final = 256


def _base36(number: int) -> str:
    if number < _PAIR_BASE:
        return _SMALL[number]
    high, low = divmod(number, _PAIR_BASE)
    return _base36(high) + _PAIRS[low]


@functools.lru_cache(maxsize=256)  # pure; called once per order on the backtester's hot path
def bot_key(bot_id: str) -> str:
    """Return the bot part of every client id of ``bot_id`` (the id itself, or a stable hash).

    Ids of up to 20 characters from ``[A-Za-z0-9_-]`` are kept as they are; any other bot id
    becomes the first 20 hex digits (80 bits) of its BLAKE2b digest.
    """
    if _RAW_BOT_ID.fullmatch(bot_id):
        return bot_id
    return hashlib.blake2b(bot_id.encode("utf-8"), digest_size=10).hexdigest()


def client_order_id(bot_id: str, sequence: int) -> str:
    """Return the client order id for intent ``sequence`` of ``bot_id``: at most 33 characters.

    Pure and stable across restarts and processes; matches Binance's
    ``^[.A-Z:/a-z0-9_-]{1,36}$``. Raises ``ValueError`` for a negative or too large sequence
    or an empty bot id.
    """
    # the usual call first: an int sequence in range and a str bot id already seen (hot path)
    if sequence.__class__ is int and bot_id.__class__ is str and 0 <= sequence < _FOUR_DIGITS:
        prefix = _PREFIXES.get(bot_id)
        if prefix is not None:
            if sequence < _PAIR_BASE:
                return prefix + _SMALL[sequence]
            high, low = divmod(sequence, _PAIR_BASE)
            return prefix + _SMALL[high] + _PAIRS[low]
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise TypeError(f"sequence {sequence!r} must be an int")
    if sequence < 0 or sequence > MAX_SEQUENCE:
        raise ValueError(f"sequence {sequence} outside 0..{MAX_SEQUENCE}")
    if not bot_id:
        raise ValueError("bot_id '' must not be empty")
    prefix = _prefix(bot_id)
    if len(_PREFIXES) < _MAX_PREFIXES:
        _PREFIXES[bot_id] = prefix
    return f"{prefix}{_base36(sequence)}"


@functools.lru_cache(maxsize=256)  # pure; saves the key lookup and separator choice per order
def _prefix(bot_id: str) -> str:
    # the same test as bot_key's, not ``key is bot_id``: the cache may hand back an equal string
    # that is a different object
    separator = _RAW_SEPARATOR if _RAW_BOT_ID.fullmatch(bot_id) else _HASHED_SEPARATOR
    return bot_key(bot_id) + separator


def parse_client_order_id(client_id: str) -> ClientOrderIdParts:
    """Split a client id made by ``client_order_id``; raises ``ValueError`` for a foreign id."""
    raw_key, raw_separator, raw_sequence = client_id.rpartition(_RAW_SEPARATOR)
    hashed_key, hashed_separator, hashed_sequence = client_id.rpartition(_HASHED_SEPARATOR)
    if raw_separator and _RAW_BOT_ID.fullmatch(raw_key):
        key, digits, is_hashed = raw_key, raw_sequence, False
    elif hashed_separator and re.fullmatch(r"[0-9a-f]{20}", hashed_key):
        key, digits, is_hashed = hashed_key, hashed_sequence, True
    else:
        raise ValueError(f"client order id {client_id!r} was not made by client_order_id")
    if not re.fullmatch(r"[0-9a-z]{1,12}", digits) or (len(digits) > 1 and digits[0] == "0"):
        raise ValueError(f"client order id {client_id!r} has no valid sequence")
    return ClientOrderIdParts(bot_key=key, sequence=int(digits, 36), is_hashed=is_hashed)
