"""The coio-tui app: composes the tabs and routes commands. Networking runs on trio."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Iterable
from functools import partial

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.events import Resize
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from coio import __version__
from coio.io_models import MODELS

from . import frame_timer
from .demo import DemoServer, DemoServerError
from .messages import BotsReport, LinkState, PartFailed, ServerReport
from .net.guest import PartEnded, TrioGuest
from .net.server_metrics import MetricsTarget
from .settings import Settings
from .widgets.chat_input import ChatInput
from .widgets.chat_pane import ChatPane
from .widgets.room_bar import RoomBar

# Below this many columns the connection pane (38 wide) folds away and the transcript takes the
# width: beside it the transcript would have under 60 columns, and an echo's row (a 9-column
# time, the arrow, the text, about 10 for its round trip) would wrap any line over 40.
FOLD_BELOW = 100

# Collections of the middle generation between two full ones (Python's default: 10), once
# started: see CoioApp._started.
FULL_COLLECTION_AFTER = 100

# Signals that quit like Ctrl+Q (exit 0): the terminal is restored and the demo server stopped.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class CoioApp(App[int]):
    """A chat client with one tab per connection to a coio server."""

    CSS_PATH = "app.tcss"
    TITLE = "coio"
    # Nothing is focused for us: on_mount focuses the first tab's message box. Textual's
    # default ("*") would focus the tab strip first, and each focus change composes the
    # footer's keys anew: work the first frame waits for (tests/tui/test_startup.py).
    AUTO_FOCUS = None
    BINDINGS = [
        Binding("ctrl+n", "new_connection", "New connection"),
        Binding("f2", "toggle_wire", "Wire"),
        Binding("f3", "toggle_link", "Connect/Disconnect"),
        Binding("f4", "toggle_details", "Details"),
        Binding("ctrl+l", "clear", "Clear"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    # The terminal is narrower than FOLD_BELOW (set on each resize): the class folds the pane.
    folded: var[bool] = var(False, toggle_class="-folded", bindings=True)
    # F4 on a folded screen: the connection pane is laid over the transcript.
    details: var[bool] = var(False, toggle_class="-details")

    def __init__(
        self,
        settings: Settings,
        *,
        connect: bool = True,
        server_metrics: MetricsTarget | None = None,
        demo: DemoServer | None = None,
    ) -> None:
        frame_timer.install()  # before the screen's update timer starts: see frame_timer
        super().__init__()
        self.settings = settings
        self.connect = connect  # False: tabs without networking (snapshots, previews)
        self.demo = demo  # a --demo server: the palette restarts it with another IO model
        if server_metrics is None and demo is not None:
            server_metrics = demo.metrics_target
        self.server_metrics = server_metrics  # a server's metrics page, read for its figures
        self.switching = ""  # the model a --demo server is being restarted with, if any
        self.sub_title = f"{settings.address} · v{__version__}"
        self.guest = TrioGuest(on_crash=self._network_crashed)
        self._count = 0
        self._network_started = False  # trio's guest run is up (after the first frame)
        self._unlinked: list[tuple[int, ChatPane]] = []  # tabs opened before that
        self._caught: list[int] = []  # signals handled by the app while it runs
        self._thresholds: tuple[int, int, int] | None = None  # the collector's, before ours

    def compose(self) -> ComposeResult:
        yield Header()
        watching_server = self.server_metrics is not None
        if self.settings.bots or watching_server:
            yield RoomBar(
                bots=self.settings.bots,
                rate=self.settings.bot_rate,
                watching_server=watching_server,
            )
        yield TabbedContent(id="tabs")
        yield Footer().data_bind(compact=CoioApp.folded)  # folded: the keys sit closer

    async def on_mount(self) -> None:
        self._catch_stop_signals()
        for _ in range(self.settings.clients):
            await self.add_connection(show=False)
        self._focus_message_box(self.query_one("#conn-1", TabPane))
        # The network side starts once the first frame is up: that frame needs none of it, and
        # trio with the links takes some 60 ms to import (benchmarks/tui_startup.py).
        self.call_after_refresh(self._begin_network)

    def _begin_network(self) -> None:
        # A task of its own: awaited here, on the screen's message pump, a slow start would
        # hold up every key meanwhile.
        self.run_worker(self._start_network(), name="network start", group="network")

    async def _start_network(self) -> None:
        """Start trio, then a link for each tab opened so far, the bots and the watcher."""
        try:
            await self._start_parts()
        finally:
            self._started()

    async def _start_parts(self) -> None:
        from .net.bots import BotSwarm
        from .net.server_metrics import watch_server_metrics

        await self.guest.start()
        if not self.guest.running:
            return  # it crashed while starting: on_crash has ended the app with the reason
        self._network_started = True
        if not self.connect:
            return
        for n, pane in self._unlinked:
            self._open_link(n, pane)
        self._unlinked.clear()
        s = self.settings
        if s.bots:
            swarm = BotSwarm(s.bots, s.bot_rate, s.host, s.port, self.post_message)
            self.guest.spawn(swarm.run, on_error=partial(self._part_failed, "bots"))
        if self.server_metrics is not None:
            self.guest.spawn(
                watch_server_metrics,
                self.server_metrics,
                self.post_message,
                on_error=partial(self._part_failed, "server metrics watcher"),
            )

    def _started(self) -> None:
        """The start-up is over: the collector runs from now on (coio-tui's main starts the
        app with it off), over the objects made from now on.

        Every object alive now (Textual's, Rich's, trio's, the modules': some 80,000) moves to
        the collector's permanent generation, so a full collection walks only what came later,
        and full collections come a tenth as often (FULL_COLLECTION_AFTER): a key typed during
        one waits for it. With Python's collector as it comes, a 20,000 echoes/s flood had a
        full collection every half second, each walking the start-up's objects too (the
        longest 34-41 ms); with these, none or one in 5 s (the longest 12-22 ms)
        (benchmarks/tui_burst.py [--plain-gc], figures in benchmarks/results/tui.txt). Not
        headless: an app under test shares its process, and its collector, with the tests.
        The collector's settings are put back when the app ends."""
        if not self.is_headless:
            gc.collect()  # the start-up's garbage goes first, not into the freeze
            gc.freeze()
            self._thresholds = gc.get_threshold()
            young, middle, _ = self._thresholds
            gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
        gc.enable()

    def _open_link(self, n: int, pane: ChatPane) -> None:
        from .net.link import Link

        link = Link(self.guest, n, self.settings.host, self.settings.port, pane.post_message)
        pane.attach(link)
        link.start()

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._caught:
            loop.remove_signal_handler(sig)
        await self.guest.stop()
        gc.unfreeze()
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
        gc.enable()  # if it ends before its start-up did

    def _catch_stop_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            try:
                loop.add_signal_handler(sig, self.exit, None, 0)
            except (NotImplementedError, RuntimeError, ValueError):  # no signals here: skip
                continue
            self._caught.append(sig)

    async def add_connection(self, *, show: bool = True) -> ChatPane:
        """Open one more connection in a new tab (and show it, unless told not to)."""
        self._count += 1
        n = self._count
        name = self.settings.name if n == 1 else f"{self.settings.name}-{n}"
        pane = ChatPane(name, self.settings.address, history=self.settings.history)
        tabs = self.query_one(TabbedContent)
        # Content, not a str: the name is the user's text, never markup (a tab label parses str).
        await tabs.add_pane(TabPane(Content(name), pane, id=f"conn-{n}"))
        if self.connect and self._network_started:
            self._open_link(n, pane)
        elif self.connect:
            self._unlinked.append((n, pane))  # linked by _start_network
        if show:
            tabs.active = f"conn-{n}"  # its TabActivated focuses the message box
        return pane

    @property
    def active_chat(self) -> ChatPane | None:
        active = self.query_one(TabbedContent).active_pane
        return None if active is None else active.query_one(ChatPane)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == event.tabbed_content.active:  # not overtaken by a later switch
            self._focus_message_box(event.pane)

    def _focus_message_box(self, pane: TabPane) -> None:
        """Focus the tab's message box, without that focus switching tabs.

        Focus lands a few messages later, and a focus inside a pane makes TabbedContent show
        that pane. Had the user switched again meanwhile, the late focus would switch back to
        this tab and leave the newer one unshown, so the pane's Focused message is prevented.
        """
        with self.prevent(TabPane.Focused):
            for box in pane.query(ChatInput):  # absent while a new tab is still composing
                box.focus()

    async def action_new_connection(self) -> None:
        await self.add_connection()

    def action_toggle_wire(self) -> None:
        if chat := self.active_chat:
            chat.toggle_wire()

    def on_resize(self, event: Resize) -> None:
        self.folded = event.size.width < FOLD_BELOW

    def watch_folded(self, folded: bool) -> None:
        if not folded:
            self.details = False  # the pane is back beside the transcript; folded again, it hides

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_details":
            return self.folded  # F4 only where the pane is folded away; wide, it is always shown
        return True

    def action_toggle_details(self) -> None:
        self.details = not self.details

    def action_toggle_link(self) -> None:
        chat = self.active_chat
        if chat is None or chat.link is None:
            return
        if chat.connected:
            chat.link.disconnect()
        else:
            chat.link.connect()

    def action_connect(self) -> None:
        if (chat := self.active_chat) and chat.link:
            chat.link.connect()

    def action_disconnect(self) -> None:
        if (chat := self.active_chat) and chat.link:
            chat.link.disconnect()

    def action_clear(self) -> None:
        if chat := self.active_chat:
            chat.clear()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Connect", "Connect this tab now", self.action_connect)
        yield SystemCommand("Disconnect", "Close this tab's connection", self.action_disconnect)
        yield SystemCommand("New connection", "Open another client tab", self.action_new_connection)
        yield SystemCommand("Toggle wire pane", "Show the raw bytes", self.action_toggle_wire)
        yield SystemCommand("Clear", "Clear this tab's transcript and wire", self.action_clear)
        if self.demo is not None:
            for model, what in MODELS.items():
                now = " (serving now)" if model == self.demo.model else ""
                help_text = f"Restart the demo server on its port with {what}{now}"
                yield SystemCommand(
                    f"Server model: {model}", help_text, partial(self.switch_model, model)
                )

    def switch_model(self, model: str) -> None:
        """Restart the --demo server with IO ``model``, off the UI thread; the tabs reconnect."""
        if self.demo is None:
            return
        if self.switching:
            self.notify(f"already restarting with {self.switching}", severity="warning")
            return
        self.switching = model
        for bar in self.query(RoomBar):
            bar.switching = model
        self.run_worker(self._switch(self.demo, model), group="server-model", exit_on_error=False)

    async def _switch(self, demo: DemoServer, model: str) -> None:
        try:
            # The old server's SIGTERM and wait, and the new one's start, block: in a thread.
            await asyncio.to_thread(demo.restart, model)
        except (DemoServerError, OSError) as exc:
            self.notify(f"{exc}", title="server model", severity="error", markup=False)
        else:
            self.notify(f"the demo server serves with {model} now", title="server model")
            self._reconnect_now()
        finally:
            self.switching = ""
            for bar in self.query(RoomBar):
                bar.switching = ""

    def _reconnect_now(self) -> None:
        """Every tab waiting to retry connects now, not after its backoff; a tab the user
        disconnected stays so."""
        for chat in self.query(ChatPane):
            offline = chat.link_pane.state is LinkState.OFFLINE
            if chat.link is not None and not chat.connected and not offline:
                chat.link.connect()

    # query(), not query_one(): a report may still arrive while the app tears its screen down.
    def on_bots_report(self, report: BotsReport) -> None:
        for bar in self.query(RoomBar):
            bar.bots_report = report

    def on_server_report(self, report: ServerReport) -> None:
        for bar in self.query(RoomBar):
            bar.server_report = report

    def _part_failed(self, part: str, error: BaseException) -> None:
        if isinstance(error, PartEnded):
            self.post_message(PartFailed(part, str(error), bug=False))
        else:
            self.post_message(PartFailed(part, f"{error!r}"))

    def on_part_failed(self, message: PartFailed) -> None:
        """A part of the network side failed; it restarts, everything else goes on."""
        if message.bug:
            self.notify(
                f"{message.part} failed: {message.error}; restarting it",
                title="internal error",
                severity="error",
                markup=False,
            )
        else:
            self.notify(
                f"{message.error}; restarting the {message.part}", severity="warning", markup=False
            )

    def _network_crashed(self, error: BaseException) -> None:
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]  # trio wraps a task's error in a group per nursery
        message = Text(f"coio-tui: network side failed: {error!r}", style="bold red")
        self.exit(return_code=1, message=message)
