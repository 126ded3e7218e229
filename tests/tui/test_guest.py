"""The trio guest run on its own, on a plain asyncio loop: restarts and stopping."""

from __future__ import annotations

import asyncio
import itertools

import pytest
import trio
from trio.testing import MockClock

from coio.tui.net.guest import HEALTHY_AFTER, RESTART_CAP, RESTART_DELAY, TrioGuest


def crash(error: BaseException) -> None:
    raise AssertionError(f"the guest run crashed: {error!r}")


@pytest.mark.asyncio
async def test_a_part_that_keeps_failing_waits_longer_each_time_up_to_the_cap() -> None:
    """Each failure in a row doubles the wait before the restart, capped: not one error a
    second forever. trio's clock jumps whenever all is idle, so the waits cost no real time."""
    guest = TrioGuest(on_crash=crash, clock=MockClock(autojump_threshold=0))
    failures: list[float] = []
    enough = asyncio.Event()

    async def broken() -> None:
        await trio.lowlevel.checkpoint()
        raise OSError("cannot start")

    def on_error(error: BaseException) -> None:
        assert isinstance(error, OSError)
        failures.append(trio.current_time())
        if len(failures) == 8:
            enough.set()

    await guest.start()
    try:
        guest.spawn(broken, on_error=on_error)
        await asyncio.wait_for(enough.wait(), 10)
    finally:
        await guest.stop()
    # (the clock runs on while the test stops the run: more failures may follow the eighth)
    waits = [round(b - a, 6) for a, b in itertools.pairwise(failures[:8])]
    assert (RESTART_DELAY, RESTART_CAP) == (1.0, 30.0)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


@pytest.mark.asyncio
async def test_stop_right_after_start_begins_does_not_hang() -> None:
    """The app can close while the network side is still starting."""
    guest = TrioGuest(on_crash=crash)
    starting = asyncio.create_task(guest.start())
    await asyncio.sleep(0)  # start() has begun the guest run; trio has not run yet
    assert not guest.running
    await asyncio.wait_for(guest.stop(), 5)
    await asyncio.wait_for(starting, 5)


@pytest.mark.asyncio
async def test_a_part_that_ran_a_while_before_failing_restarts_at_the_first_delay() -> None:
    """The back-off is for failing again at once: after HEALTHY_AFTER of running, it starts over."""
    guest = TrioGuest(on_crash=crash, clock=MockClock(autojump_threshold=0))
    failures: list[float] = []
    calls = 0
    enough = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            await trio.sleep(HEALTHY_AFTER)  # the fourth run works for a minute
        await trio.lowlevel.checkpoint()
        raise OSError("gone")

    def on_error(error: BaseException) -> None:
        failures.append(trio.current_time())
        if len(failures) == 6:
            enough.set()

    await guest.start()
    try:
        guest.spawn(flaky, on_error=on_error)
        await asyncio.wait_for(enough.wait(), 10)
    finally:
        await guest.stop()
    waits = [round(b - a, 6) for a, b in itertools.pairwise(failures[:6])]
    assert HEALTHY_AFTER == 60.0
    # 1, 2 after quick failures; the fourth run waits 4, then runs 60 s; then 1 and 2 again
    assert waits == [1.0, 2.0, 64.0, 1.0, 2.0]


@pytest.mark.asyncio
async def test_stop_after_a_start_that_failed_returns_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no more file descriptors")

    monkeypatch.setattr(trio.lowlevel, "start_guest_run", refuse)
    guest = TrioGuest(on_crash=crash)
    with pytest.raises(OSError, match="no more file descriptors"):
        await guest.start()
    assert not guest.running
    await asyncio.wait_for(guest.stop(), 5)
