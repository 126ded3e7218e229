"""The classroom bar: the simulated clients' figures and the server's own."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ..messages import BotsReport, ServerReport
from ..safe import visible
from ..stats import format_bytes, format_ms

# What the server line's figures mean, for the bar's tooltip.
SERVER_FIGURES = (
    "server: its IO model · clients live (being served) · waiting (connected, not yet "
    "accepted: no banner yet) · lines echoed per second · the server process's OS threads, "
    "as the kernel counts them (its log writer and helper threads included) · resident memory "
    "per live client (the whole process's, divided) · connections since it started"
)


class RoomBar(Widget):
    """Two lines across the app: what the bots see and what the server says.

    The app sets ``bots_report``, ``server_report`` and, while it restarts a --demo server
    with another model, ``switching`` (that model's name); each is a reactive that repaints.
    """

    DEFAULT_CSS = """
    RoomBar {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        border: round $success 50%;
        border-title-color: $success;
    }
    """

    bots_report: reactive[BotsReport | None] = reactive(None)
    server_report: reactive[ServerReport | None] = reactive(None)
    switching: reactive[str] = reactive("")

    def __init__(self, *, bots: int, rate: float, watching_server: bool) -> None:
        super().__init__()
        self.bot_count = bots
        self.bot_rate = rate
        self.watching_server = watching_server
        self.border_title = "room"
        if watching_server:
            self.tooltip = SERVER_FIGURES

    def render(self) -> Text:
        full = self.render_text()
        width = self.content_size.width
        if not width or all(cell_len(line) <= width for line in full.plain.splitlines()):
            return full
        return self.render_text(short=True)  # a projector's 80 columns: the same figures, terser

    def render_text(self, *, short: bool = False) -> Text:
        """The bar's lines; ``short`` words them to fit 80 columns (what does not fit is cut
        with an ellipsis, never wrapped)."""
        out = Text()
        if self.bot_count:
            out.append("bots    ", style="dim")
            out.append_text(self._bots_line(short))
        if self.watching_server:
            if out:
                out.append("\n")
            out.append("server  ", style="dim")
            out.append_text(self._server_line(short))
        return out

    def _bots_line(self, short: bool) -> Text:
        r = self.bots_report
        each = "" if short else " each"
        out = Text(f"{self.bot_count} at {self.bot_rate:g}/s{each}", style="bold")
        if r is None:
            return out.append(" · starting", style="yellow")
        style = "green" if r.connected == r.bots else "yellow"
        out.append(" · ").append(f"{r.connected} {'conn' if short else 'connected'}", style=style)
        out.append(f" · {r.per_second:.0f} {'msg/s' if short else 'msgs/s'} · {r.echoed} echoed")
        if short:  # "p50/p99 0.6/4.2 ms": format_ms always ends in " ms" (or is "-")
            out.append(f" · p50/p99 {format_ms(r.p50).removesuffix(' ms')}/{format_ms(r.p99)}")
        else:
            out.append(f" · rtt p50 {format_ms(r.p50)} p99 {format_ms(r.p99)}")
        if r.errors:
            out.append(f" · {r.errors} {'err' if short else 'errors'}", style="red")
            if r.last_error and not short:
                out.append(f" ({visible(r.last_error, 40)})", style="dim red")
        return out

    def _server_line(self, short: bool) -> Text:
        if self.switching:
            return Text(f"restarting with model {self.switching}…", style="bold yellow")
        r = self.server_report
        if r is None:
            return Text("waiting for its first figures", style="dim")
        if r.unavailable:
            out = Text("figures unavailable", style="yellow")
            return out.append(f" ({visible(r.unavailable, 60)})", style="dim")
        out = Text()
        if r.model:  # the server's own words: shown as text, escapes made visible
            out.append(visible(r.model, 24), style="bold cyan").append(" · ")
        out.append(f"{r.live} live", style="bold")
        if r.waiting is not None:
            out.append(" · ").append(
                f"{r.waiting} {'wait' if short else 'waiting'}",
                style="bold yellow" if r.waiting else "",
            )
        rate = "-" if r.per_second is None else f"{r.per_second:.0f}"
        out.append(f" · {rate} {'msg/s' if short else 'msgs/s'}")
        if r.threads is not None:
            noun = "thr" if short else ("thread" if r.threads == 1 else "threads")
            out.append(f" · {r.threads} {noun}")
        if r.memory is not None:
            per_client = "—" if r.live == 0 else format_bytes(r.memory // r.live)
            out.append(f" · {per_client}/client" if short else f" · mem/client {per_client}")
        if short:  # connections since the start: the figure a narrow bar can best do without
            return out
        return out.append(f" · {r.total} since start")
