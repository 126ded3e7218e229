"""The wire pane: every TCP read and write as its own chunk, bytes escaped."""

from __future__ import annotations

import time

from rich.text import Text

from ..safe import visible_bytes
from .selectable_log import SelectableLog

WIRE_HISTORY = 2_000  # chunks kept on screen


class WirePane(SelectableLog):
    """Raw traffic. Control and non-UTF-8 bytes are escaped; nothing reaches the terminal."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=WIRE_HISTORY, id=id)
        self.can_focus = False
        self.border_title = "wire"

    def add_note(self, text: str) -> None:
        """A line about the traffic rather than traffic itself (e.g. that nothing came)."""
        self.add(Text(f"{self._stamp(time.time())} ", style="dim").append(text, style="italic dim"))

    @staticmethod
    def _stamp(at: float) -> str:
        return time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"

    def add_chunk(self, outgoing: bool, data: bytes, size: int, at: float) -> None:
        stamp = self._stamp(at)
        arrow, style = ("→ send", "blue") if outgoing else ("← recv", "green")
        out = Text(f"{stamp} ", style="dim").append(f"{arrow} {size:>6} B ", style=style)
        out.append(visible_bytes(data))
        if size > len(data):
            out.append(f" … (+{size - len(data)} bytes)", style="dim")
        self.add(out)
