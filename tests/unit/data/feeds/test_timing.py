"""Back-off with jitter, the shared request budget and the virtual-clock timeout."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from aegis.data.feeds import Backoff, RequestBudget, VirtualClock, with_timeout


def test_backoff_delays_grow_exponentially_within_jitter_bounds() -> None:
    backoff = Backoff(initial_s=0.5, max_s=8.0, multiplier=2.0, jitter=0.3, seed=7)
    for attempt in range(10):
        ceiling = min(8.0, 0.5 * 2**attempt)
        delay = backoff.delay(attempt)
        assert ceiling * 0.7 <= delay <= ceiling


def test_backoff_is_reproducible_for_a_seed_and_differs_between_seeds() -> None:
    first = [Backoff(seed=1).delay(a) for a in range(6)]
    again = [Backoff(seed=1).delay(a) for a in range(6)]
    other = [Backoff(seed=2).delay(a) for a in range(6)]
    assert first == again
    assert first != other


def test_backoff_jitter_spreads_clients() -> None:
    delays = {round(Backoff(seed=seed).delay(3), 6) for seed in range(20)}
    assert len(delays) == 20


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"initial_s": 0.0}, "initial_s"),
        ({"max_s": 0.1}, "max_s"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"jitter": 1.0}, "jitter"),
    ],
)
def test_backoff_rejects_bad_parameters_naming_them(kwargs: dict[str, float], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        Backoff(**kwargs)  # type: ignore[arg-type]  # seed is int; these tests pass floats only


async def test_request_budget_spaces_requests_to_its_rate() -> None:
    clock = VirtualClock()
    budget = RequestBudget(4.0, now_ms=clock.now_ms, sleep=clock.sleep)
    stamps: list[int] = []

    async def caller() -> None:
        for _ in range(10):
            await budget.acquire()
            stamps.append(clock.now_ms())

    task = asyncio.create_task(caller(), name="budget-caller")
    await clock.run_until(task.done, timeout_s=10)
    assert len(stamps) == 10
    assert all(b - a >= 250 for a, b in itertools.pairwise(stamps))
    assert stamps[-1] - stamps[0] <= 9 * 250 + 10


async def test_request_budget_pause_stops_every_caller() -> None:
    clock = VirtualClock()
    budget = RequestBudget(100.0, now_ms=clock.now_ms, sleep=clock.sleep)
    budget.pause(3.0)
    task = asyncio.create_task(budget.acquire(), name="budget-paused")
    await clock.advance(2.9)
    assert not task.done()
    await clock.advance(0.2)
    assert task.done()


async def test_with_timeout_uses_the_injected_clock() -> None:
    clock = VirtualClock()
    never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(with_timeout(never, 5.0, clock.sleep, "never"), name="timeout-test")
    await clock.advance(4.9)
    assert not task.done()
    await clock.advance(0.2)
    with pytest.raises(TimeoutError, match="never"):
        await task
    assert never.cancelled()


async def test_with_timeout_returns_the_result_in_time() -> None:
    clock = VirtualClock()

    async def answer() -> int:
        await clock.sleep(1.0)
        return 42

    task = asyncio.create_task(with_timeout(answer(), 5.0, clock.sleep, "answer"), name="ok")
    await clock.advance(1.0)
    assert task.result() == 42
    assert clock.next_wake_ms() is None  # the timer was cancelled


def _task_named(name: str) -> asyncio.Task[object]:
    return next(t for t in asyncio.all_tasks() if t.get_name() == name)


async def test_with_timeout_propagates_cancellation_of_the_awaited_work() -> None:
    # A shutdown cancels every task, the watch included: that is no timeout, and a task that
    # ended with TimeoutError nobody awaits logs "Task exception was never retrieved".
    clock = VirtualClock()
    task = asyncio.create_task(
        with_timeout(clock.sleep(100.0), 5.0, clock.sleep, "watch"), name="waiter"
    )
    await clock.settle()
    _task_named("watch").cancel()
    await asyncio.wait({task})
    assert task.cancelled(), f"expected cancellation, got {task.exception()!r}"
    assert clock.next_wake_ms() is None  # the timer was cancelled too


async def test_with_timeout_propagates_a_cancelled_future() -> None:
    # ccxt.pro cancels its pending watch futures when the exchange closes.
    clock = VirtualClock()
    watch: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(with_timeout(watch, 5.0, clock.sleep, "watch"), name="waiter")
    await clock.settle()
    watch.cancel()
    await asyncio.wait({task})
    assert task.cancelled(), f"expected cancellation, got {task.exception()!r}"
    assert clock.next_wake_ms() is None


async def test_with_timeout_cancelled_caller_cancels_the_work_and_the_timer() -> None:
    clock = VirtualClock()
    task = asyncio.create_task(
        with_timeout(clock.sleep(100.0), 5.0, clock.sleep, "watch"), name="waiter"
    )
    await clock.settle()
    work = _task_named("watch")
    task.cancel()
    await asyncio.wait({task})
    assert task.cancelled()
    assert work.cancelled()
    assert clock.next_wake_ms() is None


async def test_with_timeout_still_times_out_on_the_injected_clock_after_the_fix() -> None:
    clock = VirtualClock()
    task = asyncio.create_task(
        with_timeout(clock.sleep(100.0), 5.0, clock.sleep, "watch"), name="waiter"
    )
    await clock.advance(5.0)
    assert task.done()
    assert not task.cancelled()
    assert isinstance(task.exception(), TimeoutError)
    assert "timeout_s=5.0" in str(task.exception())


async def test_with_timeout_hands_the_answer_over_in_one_loop_pass() -> None:
    # A closed candle's way to its order (issue 3 section 7): once the watch has its answer,
    # the caller runs on the next pass of the event loop, not after the timer's cleanup.
    clock = VirtualClock()
    watch: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    answers: list[int] = []

    async def caller() -> None:
        answers.append(await with_timeout(watch, 5.0, clock.sleep, "watch"))

    task = asyncio.create_task(caller(), name="caller")
    await clock.settle()
    watch.set_result(7)
    await asyncio.sleep(0)  # one pass
    assert answers == [7]
    await task
    await clock.settle()
    assert clock.next_wake_ms() is None  # the timer is gone afterwards


async def test_with_timeout_raises_the_error_of_a_failing_injected_sleep() -> None:
    async def broken_sleep(seconds: float) -> None:
        raise RuntimeError("clock broken")

    never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    with pytest.raises(RuntimeError, match="clock broken"):
        await with_timeout(never, 5.0, broken_sleep, "watch")
    assert never.cancelled()
