"""Listen keys of the user-data streams: create, keep alive, close, expire."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aegis.venues.emulator import errors
from aegis.venues.emulator.markets import MarketKind


@dataclass(slots=True)
class ListenKey:
    """One listen key: whose it is, for which market, and until when (wall seconds)."""

    key: str
    api_key: str
    kind: MarketKind
    expires_at_s: float


class ListenKeys:
    """Every live listen key; one per account and market, as on Binance."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._keys: dict[str, ListenKey] = {}

    def create(self, api_key: str, kind: MarketKind, now_s: float) -> str:
        """Return the account's live key (extended) or a new one."""
        for entry in self._keys.values():
            if entry.api_key == api_key and entry.kind == kind and entry.expires_at_s > now_s:
                entry.expires_at_s = now_s + self._ttl_s
                return entry.key
        key = secrets.token_urlsafe(48)
        self._keys[key] = ListenKey(key, api_key, kind, now_s + self._ttl_s)
        return key

    def keep_alive(self, api_key: str, kind: MarketKind, key: str | None, now_s: float) -> str:
        """Extend a key (the account's only key when none is named); -1125 when it is gone."""
        entry = self._find(api_key, kind, key, now_s)
        entry.expires_at_s = now_s + self._ttl_s
        return entry.key

    def close(self, api_key: str, kind: MarketKind, key: str | None, now_s: float) -> str:
        """Delete a key; -1125 when it is gone."""
        entry = self._find(api_key, kind, key, now_s)
        del self._keys[entry.key]
        return entry.key

    def lookup(self, key: str, now_s: float) -> ListenKey | None:
        """The live key, None when unknown or expired."""
        entry = self._keys.get(key)
        if entry is None or entry.expires_at_s <= now_s:
            return None
        return entry

    def expire_all(self) -> list[ListenKey]:
        """Invalidate every key (the listen_key_expire fault); return what was live."""
        expired = list(self._keys.values())
        self._keys.clear()
        return expired

    def _find(self, api_key: str, kind: MarketKind, key: str | None, now_s: float) -> ListenKey:
        for entry in self._keys.values():
            matches = entry.api_key == api_key and entry.kind == kind
            if matches and (key is None or entry.key == key) and entry.expires_at_s > now_s:
                return entry
        raise errors.listen_key_does_not_exist()
