"""The connection pane: where we are connected, how it is going, and round-trip figures."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from ..messages import LinkState
from ..safe import visible
from ..stats import LinkStats, format_bytes, format_ms, plural

SPARK_POINTS = 60  # recent round trips drawn in the sparkline
# Figures redraw at most this often while messages pour in (one redraw per burst, not per line).
REDRAW_DELAY = 0.1
PANE_WIDTH = 38  # columns: the labels, and a value such as "reconnecting in 8 s" beside them
# Text columns inside the pane (its width less border and padding), until it has a size.
DEFAULT_TEXT_WIDTH = PANE_WIDTH - 4
_INDENT = " " * 9  # the label column ("server   ", "state    "...)

_STATE_STYLE = {
    LinkState.CONNECTING: "yellow",
    LinkState.CONNECTED: "bold green",
    LinkState.WAITING: "yellow",
    LinkState.CLOSED: "red",
    LinkState.OFFLINE: "dim",
    LinkState.FAILED: "bold red",
}


class LinkFacts(Widget):
    """The pane's words and figures: drawn from ``text()`` each time the widget is painted."""

    DEFAULT_CSS = """
    LinkFacts {
        height: auto;
    }
    """

    def __init__(self, text: Callable[[], Text], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = text

    def render(self) -> Text:
        return self._text()

    def redraw(self) -> None:
        """Repaint; lay the pane out again only if the text now needs a different height.

        Figures change several times a second in a flood, and a layout lays out every widget
        on the screen, so it is kept for a line gained or lost (a reason, a warning). A
        pane not laid out (folded away below 100 columns) is measured when it is shown."""
        self.refresh()  # first: it clears the cached text, which the measure below renders
        width = self.content_size.width
        if not width:
            return
        if self.get_content_height(self.content_size, self.app.size, width) != (
            self.content_size.height
        ):
            self.refresh(layout=True)


class LinkPane(Vertical):
    """One connection's state and figures. Each fact is a reactive; setting one redraws.

    ``stats`` is the owner's ``LinkStats``, changed in place: the owner calls
    ``mutate_reactive(LinkPane.stats)`` after a change, and the figures redraw once a burst.
    """

    DEFAULT_CSS = f"""
    LinkPane {{
        width: {PANE_WIDTH};
        border: round $accent 50%;
        border-title-color: $accent;
        padding: 0 1;
        #spark-title {{
            margin-top: 1;
        }}
        #rtt-spark {{
            height: 3;
        }}
    }}
    """

    state: var[LinkState] = var(LinkState.CONNECTING, init=False)
    detail: var[str] = var("", init=False)
    retry_at: var[float | None] = var(None, init=False)  # on ``clock``: when a retry is due
    banner: var[bool | None] = var(None, init=False)  # None: not seen yet
    banner_data: var[bytes] = var(b"", init=False)
    # No banner came in this many seconds, and no verdict since: it may still come.
    banner_waited: var[float | None] = var(None, init=False)
    connected_at: var[float | None] = var(None, init=False)
    queued: var[int] = var(0, init=False)  # lines typed and not yet written
    stats: var[LinkStats] = var(LinkStats, init=False)

    def __init__(
        self, address: str, stats: LinkStats, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.address = address
        self.clock = clock
        self.set_reactive(LinkPane.stats, stats)
        self._facts = LinkFacts(self.render_text, id="link-text")
        self._figures_due = False
        self.border_title = "connection"

    def compose(self) -> ComposeResult:
        yield self._facts
        yield Static(Text("round trips", style="dim"), id="spark-title")
        yield Sparkline([], id="rtt-spark")

    def on_mount(self) -> None:
        # Ages and the retry countdown move with the clock: repaint them once a second.
        self.set_interval(1.0, self._facts.refresh)

    def _redraw(self) -> None:
        self._facts.redraw()

    # The text is drawn from every fact at once, so each fact's watcher is the same redraw.
    watch_state = watch_detail = watch_retry_at = _redraw
    watch_banner = watch_banner_data = watch_banner_waited = _redraw
    watch_connected_at = watch_queued = _redraw

    def watch_stats(self) -> None:
        """Figures changed, maybe for each read of a flood: redraw once for the whole burst."""
        if not self._figures_due:
            self._figures_due = True
            self.set_timer(REDRAW_DELAY, self._draw_figures)

    def _draw_figures(self) -> None:
        self._figures_due = False
        points = list(self.stats.rtts)[-SPARK_POINTS:]
        self.query_one("#rtt-spark", Sparkline).data = [p * 1000 for p in points]
        self._redraw()

    def set_state(self, state: LinkState, detail: str, retry_in: float | None) -> None:
        self.state = state
        self.detail = detail
        self.retry_at = None if retry_in is None else self.clock() + retry_in
        if state is LinkState.CONNECTED:
            self.connected_at = self.clock()
            self.banner, self.banner_data, self.banner_waited = None, b"", None
        elif state is not LinkState.CONNECTING:
            self.connected_at = None

    def _value_lines(self, text: str) -> str:
        """``text`` wrapped to the value column; continuation lines indented past the labels."""
        width = (self.content_size.width or DEFAULT_TEXT_WIDTH) - len(_INDENT)
        lines = textwrap.wrap(text, max(width, 8), break_on_hyphens=False) or [""]
        return f"\n{_INDENT}".join(lines)

    def render_text(self) -> Text:
        s = self.stats
        out = Text()
        out.append("server   ", style="dim").append(self._value_lines(visible(self.address)))
        state = self.state.value
        if self.state is LinkState.WAITING and self.retry_at is not None:
            state = f"reconnecting in {max(0.0, self.retry_at - self.clock()):.0f} s"
        out.append("\nstate    ", style="dim").append(state, style=_STATE_STYLE[self.state])
        if self.detail and self.state is not LinkState.CONNECTED:
            detail = self._value_lines(visible(self.detail, 60))
            out.append(f"\n{_INDENT}{detail}", style="dim")
        out.append("\nbanner   ", style="dim")
        said = self._value_lines(f"said {visible(repr(self.banner_data)[2:-1], 40)}")
        if self.banner is None:
            out.append("-")
        elif self.banner:
            out.append("welcome! ✓ verified", style="green")
        elif self.banner_waited is not None:
            # Connected and silent: a coio server that has not accepted us yet (one busy with
            # another client, its backlog) looks the same as a peer that is not coio at all.
            out.append("⚠ not served yet", style="bold yellow")
            out.append(f"\n{_INDENT}(no banner after {self.banner_waited:g} s)", style="yellow")
            out.append(f"\n{_INDENT}busy, or not coio", style="yellow")
            if self.banner_data:
                out.append(f"\n{_INDENT}{said}", style="yellow")
        else:
            out.append("✗ not an echo server", style="bold red")
            out.append(f"\n{_INDENT}{said}", style="red")
        uptime = "-" if self.connected_at is None else f"{self.clock() - self.connected_at:.0f} s"
        out.append("\nuptime   ", style="dim").append(uptime)
        # Both directions count chat lines (newline included); the banner and unsolicited
        # lines are not echoes of anything sent, and show in the wire pane instead.
        out.append("\nsent     ", style="dim")
        out.append(f"{plural(s.sent_lines, 'msg')} · {format_bytes(s.sent_bytes)}")
        out.append("\nechoed   ", style="dim")
        out.append(f"{plural(s.echoed_lines, 'msg')} · {format_bytes(s.echoed_bytes)}")
        if s.mismatches:
            out.append(f"\nmismatch {s.mismatches}", style="bold red")
        if s.unsolicited:
            out.append(f"\nunsolicited {plural(s.unsolicited, 'line')}", style="bold red")
        if s.unconfirmed_lines:
            out.append(f"\nunconfirmed {plural(s.unconfirmed_lines, 'line')}", style="magenta")
        if self.queued:
            out.append(f"\nqueued   {plural(self.queued, 'line')}", style="yellow")
        out.append("\nrtt      ", style="dim").append(format_ms(s.last_rtt))
        out.append("\np50/p99  ", style="dim")
        out.append(f"{format_ms(s.percentile(0.5))} / {format_ms(s.percentile(0.99))}")
        return out
