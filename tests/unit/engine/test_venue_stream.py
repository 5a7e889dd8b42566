"""The user-stream source keeps a ccxt venue's listenKey alive and restarts it the venue's way."""

from __future__ import annotations

from typing import Any, cast

from aegis.engine.venue_stream import VenueUserStream
from aegis.venues.base import Venue


class _ListenKeyVenue:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def keep_alive(self) -> None:
        self.calls.append("keep_alive")

    async def restart_user_stream(self) -> None:
        self.calls.append("restart")


class _Exchange:
    def __init__(self) -> None:
        self.options: dict[str, Any] = {
            "future": {"listenKey": "abc", "lastAuthenticatedTime": 5},
            "other": 1,
        }


class _PlainVenue:
    def __init__(self) -> None:
        self.exchange = _Exchange()


async def test_keep_alive_and_restart_go_to_a_venue_that_has_them() -> None:
    venue = _ListenKeyVenue()
    stream = VenueUserStream(cast(Venue, venue))
    await stream.keep_alive()
    await stream.restart_user_stream()
    assert venue.calls == ["keep_alive", "restart"]
    assert (stream.keepalives, stream.restarts) == (1, 1)


async def test_without_them_nothing_is_extended_and_the_cached_key_is_forgotten() -> None:
    venue = _PlainVenue()
    stream = VenueUserStream(cast(Venue, venue))
    await stream.keep_alive()
    assert stream.keepalives == 0
    await stream.restart_user_stream()
    assert venue.exchange.options["future"] == {"lastAuthenticatedTime": 0}
    assert stream.restarts == 1
