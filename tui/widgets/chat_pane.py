"""One connection's tab: transcript, connection pane, wire pane and message box."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widget import Widget

from coio.protocol import MAX_LINE_BYTES

from ..messages import (
    BannerChecked,
    BannerMissing,
    Echoes,
    LinesRequeued,
    LinesSent,
    LinesUnanswered,
    LinkState,
    PartFailed,
    ProtocolBroken,
    StateChanged,
    WireChunk,
)
from ..safe import visible
from ..stats import LinkStats, plural
from .chat_input import ChatInput
from .link_pane import LinkPane
from .transcript import Transcript
from .wire import WirePane

if TYPE_CHECKING:
    from ..net.link import Link  # trio's side: imported once the first frame is up


class ChatPane(Widget):
    """Everything about one connection. Network messages arrive here, posted by trio."""

    DEFAULT_CSS = """
    ChatPane {
        height: 1fr;
        layout: vertical;
        & > ChatInput {
            dock: bottom;
        }
    }
    """

    wire_shown: var[bool] = var(False)  # the wire pane is on screen (F2, or a peer not coio)

    def __init__(self, name: str, address: str, *, history: int, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chat_name = name
        self.address = address
        self.history = history
        self.stats = LinkStats()
        self.link: Link | None = None
        self._was_connected = False  # connected at least once: the next connect is a reconnect
        self._wire_for_banner = False  # the wire pane was opened for a missing banner, not by F2
        self._link_pane = LinkPane(address, self.stats)

    def compose(self) -> ComposeResult:
        with Horizontal(id="chat-body"):
            with Vertical(id="chat-main"):
                yield Transcript(history=self.history, id="transcript")
                yield WirePane(id="wire")
            yield self._link_pane
        yield ChatInput(placeholder=f"message as {self.chat_name} — Enter sends", id="message")

    def attach(self, link: Link) -> None:
        self.link = link

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def link_pane(self) -> LinkPane:
        return self._link_pane

    @property
    def connected(self) -> bool:
        return self._link_pane.state is LinkState.CONNECTED

    def watch_wire_shown(self, shown: bool) -> None:
        self.query_one(WirePane).display = shown

    def toggle_wire(self) -> None:
        """F2: show or hide the wire pane."""
        self._wire_for_banner = False  # the user's choice now: a late banner leaves it be
        self.wire_shown = not self.wire_shown

    def clear(self) -> None:
        self.transcript.clear()
        self.query_one(WirePane).clear()

    # -- user input ----------------------------------------------------------------------

    @on(ChatInput.Lines)
    def send_lines(self, event: ChatInput.Lines) -> None:
        event.stop()
        box = event.chat_input
        if self.link is None:  # the network side is not up yet (the first frame comes first)
            box.value = "\n".join(event.lines)  # kept in the box, as with a full outbox
            self.notify("not connected yet: press Enter again in a moment", severity="warning")
            return
        for index, line in enumerate(event.lines):
            if len(line.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
                self.notify(f"line too long (max {MAX_LINE_BYTES} bytes)", severity="error")
                box.value = "\n".join(event.lines[index:])
                break
            if self.link.send_line(line) is None:
                self.notify("outbox full: wait for the connection to drain", severity="error")
                box.value = "\n".join(event.lines[index:])  # nothing typed is lost
                break
            box.remember(line)
            if hint := self._pending_hint():
                self.transcript.add_queued(line, hint)
        else:
            box.value = ""
        self._sync_queue()

    def _pending_hint(self) -> str | None:
        """Why a line just queued will not go out at once, or None if it will."""
        pane = self.link_pane
        if pane.state is LinkState.OFFLINE:
            return "queued: sent when you connect (F3)"
        if not self.connected:
            return "queued: sent on reconnect"
        if pane.banner is None:
            return "queued: waiting for the server's banner"
        if pane.banner is False and pane.banner_waited is not None:
            return "held: no banner from the server yet"
        if pane.banner is False:
            return "held: the peer is not a coio server"
        return None

    def _sync_queue(self) -> None:
        if self.link is not None:
            self.link_pane.queued = self.link.queued

    def _figures_changed(self) -> None:
        """``self.stats`` changed in place: the connection pane redraws its figures."""
        self.link_pane.mutate_reactive(LinkPane.stats)

    # -- network messages ----------------------------------------------------------------

    @on(StateChanged)
    def state_changed(self, message: StateChanged) -> None:
        message.stop()
        was_connected = self.connected
        self.link_pane.set_state(message.state, message.detail, message.retry_in)
        if self.connected and not was_connected:
            self.transcript.add_note(f"connected to {self.address}", "green")
            if self._was_connected:
                self.notify(f"{self.chat_name}: reconnected to {self.address}", markup=False)
            self._was_connected = True
        elif was_connected and not self.connected:
            note = message.detail or message.state.value
            self.transcript.add_note(f"connection ended: {note}", "yellow")
            self.notify(
                f"{self.chat_name}: connection ended ({note})", severity="warning", markup=False
            )

    @on(BannerChecked)
    def banner_checked(self, message: BannerChecked) -> None:
        message.stop()
        pane = self.link_pane
        late = pane.banner_waited  # a verdict after the wait: the warning gives way to it
        pane.banner, pane.banner_data, pane.banner_waited = message.ok, message.data, None
        if message.ok and late is not None:
            self.transcript.add_note(f"the banner came after {late:g} s: a coio server after all")
            if self._wire_for_banner:  # opened only for the missing banner: close it again
                self.wire_shown = self._wire_for_banner = False
        if not message.ok:
            said = visible(message.data.decode("utf-8", "replace"), 60)
            self.transcript.add_note(f"⚠ not an echo server; it said: {said}", "bold red")
            self.wire_shown, self._wire_for_banner = True, False  # let the user see what it sent
            self.notify(
                f"{self.chat_name}: the peer is not a coio server", severity="error", markup=False
            )

    @on(BannerMissing)
    def banner_missing(self, message: BannerMissing) -> None:
        message.stop()
        pane = self.link_pane
        pane.banner, pane.banner_data, pane.banner_waited = False, message.data, message.after
        # Only silence is known: the server may be busy with someone else (its backlog holds
        # us until it accepts), or the peer is not coio. A banner that comes later verifies.
        self.transcript.add_note(
            f"⚠ no banner yet after {message.after:g} s — the server has not served us "
            "(busy, or not a coio server)",
            "bold yellow",
        )
        wire = self.query_one(WirePane)
        if not message.data:
            wire.add_note(f"nothing arrived in {message.after:g} s")
        if not self.wire_shown:
            self.wire_shown = self._wire_for_banner = True
        self.notify(
            f"{self.chat_name}: no banner after {message.after:g} s — the server is busy, "
            "or not a coio server",
            severity="warning",
            markup=False,
        )

    @on(WireChunk)
    def wire_chunk(self, message: WireChunk) -> None:
        message.stop()
        if message.outgoing:
            self.stats.sent_bytes += message.size
        else:
            self.stats.received_bytes += message.size
            if self.link is not None:
                self.link.read_shown()
        self.query_one(WirePane).add_chunk(message.outgoing, message.data, message.size, message.at)
        self._figures_changed()

    @on(LinesSent)
    def lines_sent(self, message: LinesSent) -> None:
        message.stop()
        self.stats.sent_lines += len(message.lines)
        if self.link is not None:
            self.link.written(len(message.lines))
        self.transcript.add_sent(message.lines, message.at)
        self._sync_queue()
        self._figures_changed()

    @on(LinesRequeued)
    def lines_requeued(self, message: LinesRequeued) -> None:
        message.stop()
        self.stats.sent_lines -= message.count
        if self.link is not None:
            self.link.written(-message.count)
        self.transcript.add_note(
            f"{plural(message.count, 'line')} not written: they go first on reconnect"
        )
        self._sync_queue()
        self._figures_changed()

    @on(Echoes)
    def echoes(self, message: Echoes) -> None:
        message.stop()
        stats = self.stats
        for item in message.items:
            if item.rtt is None:  # unsolicited: answers nothing, so no round trip
                stats.unsolicited += 1
                continue
            stats.add_rtt(item.rtt)
            stats.echoed_lines += 1
            stats.echoed_bytes += len(item.echo) + 1  # the newline, as sent_bytes counts it
            if not item.matches:
                stats.mismatches += 1
        stats.unsolicited += message.skipped
        self.transcript.add_echoes(message.items)
        if message.skipped:
            self.transcript.add_note(
                f"⚠ {plural(message.skipped, 'more unsolicited line')}", "bold red"
            )
        self._figures_changed()

    @on(PartFailed)
    def part_failed(self, message: PartFailed) -> None:
        """This tab's connection failed with a bug: shown here; it restarts, other tabs go on."""
        message.stop()
        self.transcript.add_note(
            f"⚠ internal error: {message.error}; this connection restarts", "bold red"
        )
        self.notify(
            f"{self.chat_name}: {message.error}; restarting its connection",
            title="internal error",
            severity="error",
            markup=False,
        )

    @on(LinesUnanswered)
    def lines_unanswered(self, message: LinesUnanswered) -> None:
        message.stop()
        self.stats.unconfirmed_lines += len(message.lines)
        self.transcript.add_unconfirmed(message.lines)
        self._figures_changed()

    @on(ProtocolBroken)
    def protocol_broken(self, message: ProtocolBroken) -> None:
        message.stop()
        self.transcript.add_note(f"⚠ protocol error: {message.reason}", "bold red")
