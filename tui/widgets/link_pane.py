"""The connection pane: where we are connected, how it is going, and round-trip figures."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from ..messages import LinkState
from ..safe import visible
from ..stats import LinkStats, format_bytes, format_ms

SPARK_POINTS = 60  # recent round trips drawn in the sparkline
# Figures redraw at most this often while messages pour in (one redraw per burst, not per line).
REDRAW_DELAY = 0.1

_STATE_STYLE = {
    LinkState.CONNECTING: "yellow",
    LinkState.CONNECTED: "bold green",
    LinkState.WAITING: "yellow",
    LinkState.CLOSED: "red",
    LinkState.OFFLINE: "dim",
    LinkState.FAILED: "bold red",
}


class LinkPane(Vertical):
    """Shows one connection's state and figures; the owner calls ``refresh_view()``."""

    def __init__(
        self, address: str, stats: LinkStats, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.address = address
        self.stats = stats
        self.clock = clock
        self.state = LinkState.CONNECTING
        self.detail = ""
        self.retry_at: float | None = None
        self.banner: bool | None = None  # None: not seen yet
        self.banner_data = b""
        self.banner_waited: float | None = None  # no banner came within this many seconds
        self.connected_at: float | None = None
        self.queued = 0
        self._redraw_pending = False
        self.border_title = "connection"

    def compose(self) -> ComposeResult:
        yield Static(id="link-text")
        yield Static(Text("round trips", style="dim"), id="spark-title")
        yield Sparkline([], id="rtt-spark")

    def on_mount(self) -> None:
        self.refresh_view()
        self.set_interval(1.0, self.refresh_view)

    def mark_dirty(self) -> None:
        """Figures changed: redraw soon, once for a whole burst of messages."""
        if not self._redraw_pending:
            self._redraw_pending = True
            self.set_timer(REDRAW_DELAY, self.refresh_view)

    def set_state(self, state: LinkState, detail: str, retry_in: float | None) -> None:
        self.state = state
        self.detail = detail
        self.retry_at = None if retry_in is None else self.clock() + retry_in
        if state is LinkState.CONNECTED:
            self.connected_at = self.clock()
            self.banner, self.banner_data, self.banner_waited = None, b"", None
        elif state is not LinkState.CONNECTING:
            self.connected_at = None
        self.refresh_view()

    def render_text(self) -> Text:
        s = self.stats
        out = Text()
        out.append("server   ", style="dim").append(visible(self.address) + "\n")
        state = self.state.value
        if self.state is LinkState.WAITING and self.retry_at is not None:
            state = f"reconnecting in {max(0.0, self.retry_at - self.clock()):.0f} s"
        out.append("state    ", style="dim").append(state, style=_STATE_STYLE[self.state])
        if self.detail and self.state is not LinkState.CONNECTED:
            out.append(f"\n         {visible(self.detail, 60)}", style="dim")
        out.append("\nbanner   ", style="dim")
        if self.banner is None:
            out.append("-")
        elif self.banner:
            out.append("welcome! ✓ verified", style="green")
        elif self.banner_waited is not None:
            out.append("✗ not a coio server", style="bold red")
            out.append(f"\n         (no banner after {self.banner_waited:g} s)", style="red")
            if self.banner_data:
                out.append(
                    f"\n         said {visible(repr(self.banner_data)[2:-1], 40)}", style="red"
                )
        else:
            out.append("✗ not an echo server", style="bold red")
            out.append(f"\n         said {visible(repr(self.banner_data)[2:-1], 40)}", style="red")
        uptime = "-" if self.connected_at is None else f"{self.clock() - self.connected_at:.0f} s"
        out.append("\nuptime   ", style="dim").append(uptime)
        out.append("\nsent     ", style="dim")
        out.append(f"{s.sent_lines} msgs · {format_bytes(s.sent_bytes)}")
        out.append("\nechoed   ", style="dim")
        out.append(f"{s.echoed_lines} msgs · {format_bytes(s.received_bytes)}")
        if s.mismatches:
            out.append(f"\nmismatch {s.mismatches}", style="bold red")
        if s.unsolicited:
            out.append(f"\nunsolicited {s.unsolicited} lines", style="bold red")
        if self.queued:
            out.append(f"\nqueued   {self.queued} lines", style="yellow")
        out.append("\nrtt      ", style="dim").append(format_ms(s.last_rtt))
        out.append("\np50/p99  ", style="dim")
        out.append(f"{format_ms(s.percentile(0.5))} / {format_ms(s.percentile(0.99))}")
        return out

    def refresh_view(self) -> None:
        self._redraw_pending = False
        self.query_one("#link-text", Static).update(self.render_text())
        points = list(self.stats.rtts)[-SPARK_POINTS:]
        self.query_one("#rtt-spark", Sparkline).data = [p * 1000 for p in points]
