"""Frames on time: a one-line correction to Textual's interval timer, fenced here.

Textual paints the screen from an interval timer (60 per second) that skips ticks it is late
for. Its loop (``textual.timer.Timer._run``, Textual 8.2) computes the tick to skip to as one
past the next due: after a tick that ends late -- a frame that took longer than the interval,
or one that began late because the loop was busy -- the next frame waits a whole extra
interval. With ticks every 16.7 ms, a frame that ends at 20 ms is followed by one at 50 ms, not
33 ms. In a flood that is exactly when a key is typed: the key is handled just after a
transcript frame, then waits for the tick after next. ``benchmarks/tui_burst.py
--textual-timer`` runs the app without this correction: the alternating runs are in
``benchmarks/results/tui.txt``.

``install()`` replaces ``Timer._run`` with the same loop and the skip computed as the last
tick before now (``ticks_before``), so the next one due is the next frame. It uses Timer's
private attributes, so it is applied only to the Textual timer module it was written against,
byte for byte (``TEXTUAL_TIMER_SHA256``, Textual 8.2.8's ``textual/timer.py``); to any other,
Textual is left as it is. ``tests/tui/test_frame_timer.py`` pins that module and runs both
loops on a fake clock: the same ticks wherever none is late, one interval sooner after a late
one.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from textual import _time
from textual import timer as textual_timer
from textual.timer import EventTargetGone, Timer

# sha256 of Textual 8.2.8's textual/timer.py, whose Timer._run the loop below corrects.
TEXTUAL_TIMER_SHA256 = "fb97f81821a0cc151e054f4bce785e13191fd1a875e17c56c1f84af58135d43f"

UPSTREAM_RUN = Timer._run


def ticks_before(start: float, interval: float, now: float) -> int:
    """How many ticks fall before ``now``: the next one due is that count plus one.

    Ticks fall at ``start + n * interval`` for n = 1, 2, ...; a timer late for some skips
    them and waits for the first one at or after ``now``."""
    count = math.ceil((now - start) / interval) - 1
    if start + (count + 1) * interval < now:  # rounding put that tick a hair before now
        count += 1
    return count


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
            count = ticks_before(start, interval, now)
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


def applicable(module_file: str | None = textual_timer.__file__) -> bool:
    """Whether Textual's timer module is the one this corrects, byte for byte."""
    try:
        source = Path(module_file or "").read_bytes()
    except OSError:  # no source to compare (a frozen or zipped install): leave it be
        return False
    return hashlib.sha256(source).hexdigest() == TEXTUAL_TIMER_SHA256


def install() -> bool:
    """Use the corrected loop for every timer started from now on; False if not applicable."""
    if not applicable():
        return False
    Timer._run = _run_on_time  # type: ignore[method-assign]
    return True
