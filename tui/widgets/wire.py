"""The wire pane: every TCP read and write as its own chunk, bytes escaped."""

from __future__ import annotations

import time

from ..safe import visible_bytes
from .selectable_log import SelectableLog, styled_line

WIRE_HISTORY = 2_000  # chunks kept on screen


class WirePane(SelectableLog):
    """Raw traffic. Control and non-UTF-8 bytes are escaped; nothing reaches the terminal."""

    DEFAULT_CSS = """
    WirePane {
        height: 40%;
        border: round $secondary 60%;
        border-title-color: $secondary;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=WIRE_HISTORY, id=id)
        self.can_focus = False
        self.border_title = "wire"

    def add_note(self, text: str) -> None:
        """A line about the traffic rather than traffic itself (e.g. that nothing came)."""
        self.add(styled_line((self._stamp(time.time()) + " ", "dim"), (text, "italic dim")))

    @staticmethod
    def _stamp(at: float) -> str:
        return time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"

    def add_chunk(self, outgoing: bool, data: bytes, size: int, at: float) -> None:
        # Dim throughout, the arrow tinted: the bytes, not the chat, so they stay in the background.
        arrow, style = ("→ send", "dim blue") if outgoing else ("← recv", "dim green")
        more = f" … (+{size - len(data)} bytes)" if size > len(data) else ""
        self.add(
            styled_line(
                (self._stamp(at) + " ", "dim"),
                (f"{arrow} {size:>6} B ", style),
                (visible_bytes(data), "dim"),
                (more, "dim"),
            )
        )
