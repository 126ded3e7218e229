"""The transcript: what you sent and what the server answered, with time and round trip."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from rich.text import Text

from ..messages import EchoItem
from ..safe import visible, visible_bytes
from ..stats import format_ms
from .selectable_log import SelectableLog

DEFAULT_HISTORY = 10_000  # lines kept; older ones scroll away so memory stays bounded

Clock = Callable[[], float]


class Transcript(SelectableLog):
    """Chat history. Network text is written as Rich ``Text``: never parsed as markup."""

    def __init__(
        self, *, history: int = DEFAULT_HISTORY, clock: Clock = time.time, id: str | None = None
    ) -> None:
        super().__init__(max_lines=history, id=id)
        self.clock = clock
        self.can_focus = False

    def _stamp(self, at: float | None) -> str:
        return time.strftime("%H:%M:%S", time.localtime(self.clock() if at is None else at))

    def add_sent(self, lines: Iterable[tuple[int, str]], at: float) -> None:
        stamp = self._stamp(at)
        out = Text()
        for _, line in lines:
            if out:
                out.append("\n")
            out.append(f"{stamp} ", style="dim").append("→ ", style="bold blue")
            out.append(visible(line))
        if out:
            self.add(out)

    def add_queued(self, text: str, hint: str = "queued: sent on reconnect") -> None:
        """A line the user typed that is waiting (``hint`` says for what)."""
        out = Text(f"{self._stamp(None)} ", style="dim")
        out.append("⧗ ", style="bold yellow").append(visible(text), style="yellow")
        out.append(f"  ({hint})", style="dim yellow")
        self.add(out)

    def add_echoes(self, items: Iterable[EchoItem]) -> None:
        out = Text()
        for item in items:
            if out:
                out.append("\n")
            out.append(f"{self._stamp(item.at)} ", style="dim").append("← ", style="bold green")
            out.append(visible_bytes(item.echo), style="bold")
            if item.rtt is None:
                out.append("  ⚠ unsolicited line", style="bold red")
                continue
            if not item.matches:
                out.append(f"  ⚠ not the uppercase of {visible(item.sent)!r}", style="bold red")
            out.append(f" · {format_ms(item.rtt)}", style="dim")
        if out:
            self.add(out)

    def add_unconfirmed(self, lines: Iterable[tuple[int, str]]) -> None:
        """Lines written before the link dropped and never echoed: the server may have seen
        them, so they are not sent again (the user can send them anew)."""
        stamp = self._stamp(None)
        out = Text()
        for _, line in lines:
            if out:
                out.append("\n")
            out.append(f"{stamp} ", style="dim").append("? ", style="bold magenta")
            out.append(visible(line), style="magenta")
            out.append("  (unconfirmed: the link dropped before its echo; not resent)", style="dim")
        if out:
            self.add(out)

    def add_note(self, text: str, style: str = "italic dim") -> None:
        self.add(Text(f"{self._stamp(None)} ", style="dim").append(visible(text), style=style))
