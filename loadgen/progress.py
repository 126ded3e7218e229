"""The live progress line, drawn on stderr only when it is a terminal."""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressLine:
    """Redraws one status line in place; ``clear()`` removes it before the report."""

    def __init__(self, warmup: float, duration: float, stream: TextIO = sys.stderr) -> None:
        self.warmup = warmup
        self.duration = duration
        self.stream = stream
        self._last = (0.0, 0)  # (seconds, echoes) at the previous update
        self._width = 0

    def __call__(self, elapsed: float, echoes: int, errors: int) -> None:
        then, before = self._last
        rate = (echoes - before) / (elapsed - then) if elapsed > then else 0.0
        self._last = (elapsed, echoes)
        phase = "warm-up" if elapsed < self.warmup else "measuring"
        total = self.warmup + self.duration
        text = (
            f"  {min(elapsed, total):5.1f}/{total:g} s  {phase:9}  {echoes:>12,} echoes"
            f"  {rate:>10,.0f}/s  {errors:,} errors"
        )
        self._write(text)

    def clear(self) -> None:
        if self._width:
            self._write("")
            self.stream.write("\r")
            self.stream.flush()

    def _write(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)
