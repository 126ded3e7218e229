"""The classroom bar: the simulated clients' figures and the demo server's own."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..messages import BotsReport, ServerReport
from ..safe import visible
from ..stats import format_ms


class RoomBar(Static):
    """Two lines across the app: what the bots see and what the server says."""

    def __init__(self, *, bots: int, rate: float, watching_server: bool) -> None:
        super().__init__()
        self.bots_report: BotsReport | None = None
        self.server_report: ServerReport | None = None
        self.bot_count = bots
        self.bot_rate = rate
        self.watching_server = watching_server
        self.border_title = "room"

    def on_mount(self) -> None:
        self.update(self.render_text())

    def show_bots(self, report: BotsReport) -> None:
        self.bots_report = report
        self.update(self.render_text())

    def show_server(self, report: ServerReport) -> None:
        self.server_report = report
        self.update(self.render_text())

    def render_text(self) -> Text:
        out = Text()
        if self.bot_count:
            out.append("bots    ", style="dim")
            out.append_text(self._bots_line())
        if self.watching_server:
            if out:
                out.append("\n")
            out.append("server  ", style="dim")
            out.append_text(self._server_line())
        return out

    def _bots_line(self) -> Text:
        r = self.bots_report
        out = Text(f"{self.bot_count} at {self.bot_rate:g}/s each", style="bold")
        if r is None:
            return out.append(" · starting", style="yellow")
        style = "green" if r.connected == r.bots else "yellow"
        out.append(" · ").append(f"{r.connected} connected", style=style)
        out.append(f" · {r.per_second:.0f} msgs/s · {r.echoed} echoed")
        out.append(f" · rtt p50 {format_ms(r.p50)} p99 {format_ms(r.p99)}")
        if r.errors:
            out.append(f" · {r.errors} errors", style="red")
            if r.last_error:
                out.append(f" ({visible(r.last_error, 40)})", style="dim red")
        return out

    def _server_line(self) -> Text:
        r = self.server_report
        if r is None:
            return Text("waiting for its first figures", style="dim")
        if not r.running:
            return Text("stopped", style="bold red")
        if r.unavailable:
            out = Text("figures unavailable", style="yellow")
            return out.append(f" ({visible(r.unavailable, 60)})", style="dim")
        out = Text(f"{r.live} live", style="bold").append(f" · {r.total} served")
        rate = "-" if r.per_second is None else f"{r.per_second:.0f}"
        return out.append(f" · {rate} msgs/s")
