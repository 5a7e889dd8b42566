"""UserStreamSupervisor.request_restart: a restart asked from outside runs in the stream loop."""

from __future__ import annotations

import pytest
from tests.unit.data.feeds.test_user_stream import FakeUserStream, Recorder, supervised, update

from aegis.data.feeds import VirtualClock

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start_ms=1_700_000_000_000)


async def test_a_requested_restart_restarts_once_and_resyncs_with_its_reason(
    clock: VirtualClock,
) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    async with supervised(source, clock, recorder, silence_timeout_s=1e6) as supervisor:
        supervisor.request_restart("watchdog")
        supervisor.request_restart("watchdog")  # asked twice before the loop noticed: one restart
        await clock.advance(5)
        assert supervisor.is_connected
        assert supervisor.restart_requests == 2
        assert supervisor.last_resync_reason == "watchdog"
        source.queue.put_nowait([update("o1")])  # the new stream delivers
        await clock.advance(1)
        # the request was consumed by that restart: no further one
        await clock.advance(60)
    assert len(source.restarts_ms) == 1
    assert supervisor.reconnects == 1
    assert [r.reason for r in recorder.resyncs] == ["start", "watchdog"]
    assert recorder.order[-1] == "update:o1"


async def test_an_empty_reason_is_refused(clock: VirtualClock) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    async with supervised(source, clock, recorder) as supervisor:
        with pytest.raises(ValueError, match="restart reason must not be empty"):
            supervisor.request_restart("")
    assert supervisor.restart_requests == 0
