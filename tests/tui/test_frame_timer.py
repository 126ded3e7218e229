"""coio.tui.frame_timer: the next frame after a late one comes at the next tick, not the one after.

The timer loops run on a fake clock (Textual's ``_time`` module's clock and sleep replaced), so
a "slow frame" is the clock moved forward inside the callback and no test waits for real time.
Textual's own loop is run the same way and pinned: the day Textual changes or fixes it, the
pins below fail and say whether the correction is still needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from textual import _time
from textual import timer as textual_timer
from textual._context import active_app
from textual.app import App
from textual.timer import Timer

from coio.tui import frame_timer
from coio.tui.app import CoioApp
from coio.tui.settings import Settings

INTERVAL = 1.0
# Textual 8.2's Timer._run, as read when the correction was written (sha256 of its source).
UPSTREAM_SOURCE_SHA256 = "60c942a84c1a8765932ea4fe897d61a94d0a74dcd249ec0b4a6aad75757ade50"


class Target:
    """What a timer is for (Timer keeps a weak reference to it)."""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def get_time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(_time, "get_time", fake.get_time)
    monkeypatch.setattr(_time, "sleep", fake.sleep)
    monkeypatch.setattr(textual_timer, "sleep", fake.sleep)  # Textual's loop imports it by name
    token = active_app.set(App())  # a tick looks up the running app (only its _exit flag)
    yield fake
    active_app.reset(token)


def tick_times(
    clock: FakeClock,
    run: Callable[[Timer], Coroutine[Any, Any, None]],
    slow: dict[int, float],
    ticks: int = 5,
) -> list[float]:
    """When each of ``ticks`` ticks began; tick k (from 1) takes ``slow.get(k, 0)`` seconds."""
    began: list[float] = []
    enough = asyncio.Event()

    def callback() -> None:
        began.append(clock.now)
        clock.now += slow.get(len(began), 0.0)
        if len(began) == ticks:
            enough.set()

    async def main() -> None:
        timer = Timer(Target(), INTERVAL, callback=callback, repeat=None)
        loop = asyncio.create_task(run(timer))
        await asyncio.wait_for(enough.wait(), 10)  # real seconds: the fake clock never waits
        loop.cancel()

    asyncio.run(main())
    return began[:ticks]


@pytest.mark.parametrize(
    ("slow", "expected"),
    [
        ({}, [1.0, 2.0, 3.0, 4.0, 5.0]),
        # The first frame takes 1.5 intervals: it ends at 2.5, the next is due at 3.
        ({1: 1.5}, [1.0, 3.0, 4.0, 5.0, 6.0]),
        # Ends at 3.2 (2.2 intervals late): ticks 2 and 3 are gone, the next is at 4.
        ({1: 2.2}, [1.0, 4.0, 5.0, 6.0, 7.0]),
        # Under one interval: nothing is skipped.
        ({2: 0.9}, [1.0, 2.0, 3.0, 4.0, 5.0]),
    ],
)
def test_after_a_late_tick_the_next_is_the_next_due(
    clock: FakeClock, slow: dict[int, float], expected: list[float]
) -> None:
    assert tick_times(clock, frame_timer._run_on_time, slow) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("slow", "expected"),
    [
        ({}, [1.0, 2.0, 3.0, 4.0, 5.0]),
        ({1: 1.5}, [1.0, 4.0, 5.0, 6.0, 7.0]),  # one interval later than due
        ({1: 2.2}, [1.0, 5.0, 6.0, 7.0, 8.0]),
    ],
)
def test_textuals_loop_waits_an_extra_interval_after_a_late_tick(
    clock: FakeClock, slow: dict[int, float], expected: list[float]
) -> None:
    """The pin: if this fails, Textual's loop changed -- re-check whether the correction is
    still needed (and drop it if Textual's loop is now right)."""
    assert tick_times(clock, frame_timer.UPSTREAM_RUN, slow) == pytest.approx(expected)


def test_textuals_loop_is_the_one_the_correction_was_written_against() -> None:
    source = inspect.getsource(frame_timer.UPSTREAM_RUN)
    assert hashlib.sha256(source.encode()).hexdigest() == UPSTREAM_SOURCE_SHA256, (
        "Textual's Timer._run changed: compare it with coio.tui.frame_timer._run_on_time"
    )
    assert frame_timer.applicable()


@pytest.mark.parametrize(
    ("now", "expected"),
    [(0.0, 0), (0.5, 0), (1.0, 1), (2.5, 2), (3.2, 3), (9.99, 9)],
)
def test_next_tick(now: float, expected: int) -> None:
    assert frame_timer.next_tick(0.0, INTERVAL, now) == expected


def test_a_loop_that_refers_to_other_names_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    async def other(self: Timer) -> None:
        await self._active.wait()

    monkeypatch.setattr(frame_timer, "UPSTREAM_RUN", other)
    monkeypatch.setattr(Timer, "_run", other)
    assert not frame_timer.install()
    assert Timer._run is other


def test_the_app_installs_it_before_its_timers_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Timer, "_run", frame_timer.UPSTREAM_RUN)
    CoioApp(Settings(port=1), connect=False)
    assert Timer._run is frame_timer._run_on_time
