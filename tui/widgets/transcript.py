"""The transcript: what you sent and what the server answered, with time and round trip."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ..limits import DEFAULT_HISTORY
from ..messages import EchoItem
from ..safe import visible, visible_bytes
from ..stats import format_ms
from .selectable_log import Line, SelectableLog, styled_line

ARRIVED = ("← ", "bold green")  # the arrow before each echo

Clock = Callable[[], float]


class Transcript(SelectableLog):
    """Chat history. Network text is shown as Rich ``Text``: never parsed as markup.

    Each ``add_*`` call appends all its lines at once: one refresh, however many lines.
    """

    DEFAULT_CSS = """
    Transcript {
        height: 1fr;
        border: round $primary 40%;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(
        self, *, history: int = DEFAULT_HISTORY, clock: Clock = time.time, id: str | None = None
    ) -> None:
        super().__init__(max_lines=history, id=id)
        self.clock = clock
        self.can_focus = False
        self._stamped: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def _stamp(self, at: float | None) -> str:
        """``HH:MM:SS `` for ``at`` (now if None); one strftime per second, not per line."""
        moment = self.clock() if at is None else at
        second = int(moment // 1)
        if self._stamped[0] != second:
            self._stamped = (second, time.strftime("%H:%M:%S ", time.localtime(moment)))
        return self._stamped[1]

    def add_sent(self, lines: Iterable[tuple[int, str]], at: float) -> None:
        stamp = self._stamp(at)
        self.add_lines(
            [
                styled_line((stamp, "dim"), ("→ ", "bold blue"), (visible(line), ""))
                for _, line in lines
            ]
        )

    def add_queued(self, text: str, hint: str = "queued: sent on reconnect") -> None:
        """A line the user typed that is waiting (``hint`` says for what)."""
        self.add(
            styled_line(
                (self._stamp(None), "dim"),
                ("⧗ ", "dim bold yellow"),  # the whole line is dim: it is not sent yet
                (visible(text), "dim yellow"),
                (f"  ({hint})", "dim yellow"),
            )
        )

    def add_echoes(self, items: Iterable[EchoItem]) -> None:
        lines: list[Line] = []
        for item in items:
            stamp = (self._stamp(item.at), "dim")
            echo = (visible_bytes(item.echo), "bold")
            if item.rtt is None:
                lines.append(
                    styled_line(stamp, ARRIVED, echo, ("  ⚠ unsolicited line", "bold red"))
                )
            elif item.matches:
                lines.append(
                    styled_line(stamp, ARRIVED, echo, (f" · {format_ms(item.rtt)}", "dim"))
                )
            else:
                wrong = (f"  ⚠ not the uppercase of {visible(item.sent)!r}", "bold red")
                rtt = (f" · {format_ms(item.rtt)}", "dim")
                lines.append(styled_line(stamp, ARRIVED, echo, wrong, rtt))
        self.add_lines(lines)

    def add_unconfirmed(self, lines: Iterable[tuple[int, str]]) -> None:
        """Lines written before the link dropped and never echoed: the server may have seen
        them, so they are not sent again (the user can send them anew)."""
        stamp = self._stamp(None)
        note = ("  (unconfirmed: the link dropped before its echo; not resent)", "dim")
        self.add_lines(
            [
                styled_line(
                    (stamp, "dim"), ("? ", "bold magenta"), (visible(line), "magenta"), note
                )
                for _, line in lines
            ]
        )

    def add_note(self, text: str, style: str = "italic dim") -> None:
        self.add(styled_line((self._stamp(None), "dim"), (visible(text), f"dim {style}")))
