"""Frames on time: a one-line correction to Textual's interval timer, fenced here.

Textual paints the screen from an interval timer (60 per second) that skips ticks it is late
for. Its loop (``textual.timer.Timer._run``, Textual 8.2) computes the tick to skip to as one
past the next due: after a tick that ends late -- a frame that took longer than the interval,
or one that began late because the loop was busy -- the next frame waits a whole extra
interval. With ticks every 16.7 ms, a frame that ends at 20 ms is followed by one at 50 ms, not
33 ms. In a flood that is exactly when a key is typed: the key is handled just after a
transcript frame, then waits for the tick after next (``benchmarks/tui_burst.py``: key to
frame p99 during a 20,000 echoes/s flood 47 ms with Textual's loop, 31-35 ms with this one).

``install()`` replaces ``Timer._run`` with the same loop and the skip computed as the next tick
due (``next_tick``). It uses Timer's private attributes, so it is applied only when Textual's
loop refers to exactly the names this one relies on (``EXPECTED_NAMES``); otherwise Textual is
left as it is. ``tests/tui/test_frame_timer.py`` pins Textual's loop (its source and the late
tick it produces), so a Textual that changes or fixes it fails there rather than here.
"""

from __future__ import annotations

from textual import _time
from textual.timer import EventTargetGone, Timer

# The names Textual 8.2's Timer._run refers to: the attributes and helpers the loop below uses.
EXPECTED_NAMES = (
    "_repeat",
    "_interval",
    "_active",
    "wait",
    "_time",
    "get_time",
    "_skip",
    "int",
    "max",
    "sleep",
    "_reset",
    "_tick",
    "EventTargetGone",
)

UPSTREAM_RUN = Timer._run


def next_tick(start: float, interval: float, now: float) -> int:
    """The count of the last tick at or before ``now``; the next one due is that plus one.

    Ticks fall at ``start + n * interval`` for n = 1, 2, ...; a timer that is late for some
    skips them and waits for the first one after ``now``."""
    return int((now - start) // interval)


async def _run_on_time(self: Timer) -> None:
    """Textual's timer loop, the skip after a late tick going to the next tick due."""
    count = 0
    repeat = self._repeat
    interval = self._interval
    await self._active.wait()
    start = _time.get_time()
    while repeat is None or count <= repeat:
        due = start + (count + 1) * interval
        now = _time.get_time()
        if self._skip and due < now:
            count = next_tick(start, interval, now)
            continue
        await _time.sleep(max(0.0, due - now))
        count += 1
        await self._active.wait()
        if self._reset:
            start = _time.get_time()
            count = 0
            self._reset = False
            continue
        try:
            await self._tick(next_timer=due, count=count)
        except EventTargetGone:
            break


def applicable() -> bool:
    """Whether Textual's loop is the one this corrects (it refers to the same names)."""
    return UPSTREAM_RUN.__code__.co_names == EXPECTED_NAMES


def install() -> bool:
    """Use the corrected loop for every timer started from now on; False if not applicable."""
    if not applicable():
        return False
    Timer._run = _run_on_time  # type: ignore[method-assign]
    return True
