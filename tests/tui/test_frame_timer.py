"""coio.tui.frame_timer: the next frame after a late one comes at the next tick, not the one after.

The timer loops run on a fake clock (Textual's ``_time`` module's clock and sleep replaced), so
a "slow frame" is the clock moved forward inside the callback and no test waits for real time.
Textual's own loop is run the same way and pinned: the day Textual changes or fixes it, the
pins below fail and say whether the correction is still needed.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import inspect
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
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


class Recording(Timer):
    """A timer that logs each tick it is asked for: (clock time, due time, count)."""

    log: list[tuple[float, float, int]]
    clock: FakeClock
    wanted: int = 1_000_000
    enough: asyncio.Event

    async def _tick(self, *, next_timer: float, count: int) -> None:
        self.log.append((self.clock.now, next_timer, count))
        if len(self.log) >= self.wanted:
            self.enough.set()
        await super()._tick(next_timer=next_timer, count=count)


Action = Callable[[Recording], None]
Loop = Callable[[Timer], Coroutine[Any, Any, None]]


def run_timer(
    clock: FakeClock,
    run: Loop,
    *,
    repeat: int | None = None,
    actions: dict[int, Action] | None = None,
    target: object | None = None,
    with_callback: bool = True,
    ticks: int = 6,
) -> list[tuple[float, float, int]]:
    """Run the loop ``run`` on a timer until it ends or has ticked ``ticks`` times; tick k
    (from 1) first does ``actions[k]`` to the timer. The timer's log."""
    actions = actions or {}

    def callback() -> None:
        action = actions.get(len(timer.log))
        if action is not None:
            action(timer)

    timer = Recording(
        target if target is not None else Target(),
        INTERVAL,
        callback=callback if with_callback else None,
        repeat=repeat,
    )
    timer.log, timer.clock = [], clock

    async def main() -> None:
        timer.wanted, timer.enough = ticks, asyncio.Event()
        loop = asyncio.create_task(run(timer))
        enough = asyncio.create_task(timer.enough.wait())
        await asyncio.wait([loop, enough], return_when=asyncio.FIRST_COMPLETED)
        loop.cancel()
        enough.cancel()

    asyncio.run(asyncio.wait_for(main(), 5))  # real seconds: the fake clock never waits
    return timer.log[:ticks]


def later(clock: FakeClock, seconds: float, then: Action) -> Action:
    """An action: the loop gets many turns to run (a paused one must not tick in them), then
    the clock moves on ``seconds`` and ``then`` is done to the timer."""

    def act(timer: Recording) -> None:
        async def wait_then() -> None:
            for _ in range(20):
                await asyncio.sleep(0)
            clock.now += seconds
            then(timer)

        task = asyncio.get_running_loop().create_task(wait_then())
        pending.add(task)
        task.add_done_callback(pending.discard)

    return act


pending: set[asyncio.Task[None]] = set()  # kept until done: the loop holds tasks weakly


def both(first: Action, second: Action) -> Action:
    def act(timer: Recording) -> None:
        first(timer)
        second(timer)

    return act


class Listener(Target):
    """A timer's target with no callback: it is sent Timer events."""

    def __init__(self) -> None:
        self.events: list[tuple[float, int]] = []

    def post_message(self, message: Any) -> bool:
        self.events.append((message.time, message.count))
        return True


def scenarios(clock: FakeClock) -> dict[str, tuple[dict[str, Any], int]]:
    """Name: (run_timer's arguments, ticks expected)."""
    pause_then_resume = both(Timer.pause, later(clock, 2.5, Timer.resume))
    return {
        "every tick on time": ({}, 6),
        "one shot (set_timer)": ({"repeat": 0}, 1),
        "three repeats": ({"repeat": 3}, 4),
        "paused at tick 2, resumed 2.5 s later": ({"actions": {2: pause_then_resume}}, 6),
        "reset at tick 2": ({"actions": {2: Timer.reset}}, 6),
        "reset at tick 1 of two repeats": ({"repeat": 2, "actions": {1: Timer.reset}}, 4),
    }


@pytest.mark.parametrize("name", list(scenarios(FakeClock())))
def test_where_no_tick_is_late_both_loops_tick_alike(clock: FakeClock, name: str) -> None:
    """Pause, resume, reset and repeat counts as Textual's loop has them: the same ticks, due
    times and counts from both loops. (The tick after a resume is late, so after it the
    loops part: that log stops there.)"""
    arguments, expected = scenarios(clock)[name]
    if "paused" in name:
        arguments = {**arguments, "ticks": 3}
        expected = 3
    ours = run_timer(clock, frame_timer._run_on_time, **arguments)
    clock.now = 0.0
    textuals = run_timer(clock, frame_timer.UPSTREAM_RUN, **arguments)
    assert ours == textuals
    assert len(ours) == expected


def test_paused_loops_wait_for_their_resume(clock: FakeClock) -> None:
    actions = {2: both(Timer.pause, later(clock, 2.5, Timer.resume))}
    log = run_timer(clock, frame_timer._run_on_time, actions=actions, ticks=3)
    assert [at for at, _, _ in log] == pytest.approx([1.0, 2.0, 5.5])


def test_a_timer_without_a_callback_sends_its_target_the_ticks(clock: FakeClock) -> None:
    ours, textuals = Listener(), Listener()
    run_timer(clock, frame_timer._run_on_time, target=ours, with_callback=False, ticks=3)
    clock.now = 0.0
    run_timer(clock, frame_timer.UPSTREAM_RUN, target=textuals, with_callback=False, ticks=3)
    assert ours.events[:3] == textuals.events[:3] == [(1.0, 1), (2.0, 2), (3.0, 3)]


def test_a_timer_whose_target_is_gone_stops(clock: FakeClock) -> None:
    """A tick for a target that no longer exists ends the loop (EventTargetGone), as Textual's."""
    gone = Target()
    timer = Recording(gone, INTERVAL, callback=None, repeat=None)
    timer.log, timer.clock = [], clock
    del gone
    gc.collect()

    async def main() -> None:
        await frame_timer._run_on_time(timer)

    asyncio.run(asyncio.wait_for(main(), 5))
    assert len(timer.log) == 1


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
        # Ends exactly on a tick (3.0): that tick is not missed.
        ({1: 2.0}, [1.0, 3.0, 4.0, 5.0, 6.0]),
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


def test_textuals_timer_module_is_the_one_the_correction_was_written_against() -> None:
    """The pin: when Textual's timer module changes, the correction is no longer applied (see
    the next test) and this fails, to say: compare Textual's Timer._run with
    coio.tui.frame_timer._run_on_time, and drop the correction if Textual's loop is right."""
    source = inspect.getsource(frame_timer.UPSTREAM_RUN)
    assert hashlib.sha256(source.encode()).hexdigest() == UPSTREAM_SOURCE_SHA256
    assert frame_timer.applicable()


def test_another_timer_module_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    changed = tmp_path / "timer.py"
    changed.write_bytes(Path(textual_timer.__file__ or "").read_bytes() + b"\n# changed\n")
    assert not frame_timer.applicable(str(changed))
    assert not frame_timer.applicable(str(tmp_path / "absent.py"))
    monkeypatch.setattr(frame_timer, "applicable", lambda: False)
    monkeypatch.setattr(Timer, "_run", frame_timer.UPSTREAM_RUN)
    assert not frame_timer.install()
    assert Timer._run is frame_timer.UPSTREAM_RUN


@pytest.mark.parametrize(
    ("now", "expected"),
    # Ticks at 1, 2, 3, ...: how many fall strictly before now.
    [(0.5, 0), (1.0, 0), (1.5, 1), (2.5, 2), (3.0, 2), (3.2, 3), (9.99, 9)],
)
def test_ticks_before(now: float, expected: int) -> None:
    assert frame_timer.ticks_before(0.0, INTERVAL, now) == expected


def test_the_next_tick_after_a_skip_is_never_before_now() -> None:
    """Where float rounding would put the tick after the skipped ones a hair before now, the
    loop would compute it again without waiting: a spin while the clock stands still."""
    start, interval, now = 9.097893412753983, 1 / 60, 508.947893412754
    count = frame_timer.ticks_before(start, interval, now)
    assert start + (count + 1) * interval >= now
    assert start + count * interval < now


def test_the_app_installs_it_before_its_timers_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Constructing the app installs it: the screen's update timer starts after that."""
    monkeypatch.setattr(Timer, "_run", frame_timer.UPSTREAM_RUN)
    CoioApp(Settings(port=1), connect=False)
    assert Timer._run is frame_timer._run_on_time
