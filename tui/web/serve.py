"""Serve coio-tui to web browsers with textual-serve: every browser tab is its own app process.

textual-serve runs each tab's app with a shell in the server's own process group and never
stops it when the server exits. Here each app runs directly (no shell), in a process group of
its own (so a terminal's Ctrl+C reaches only the server, which then closes the tabs in order),
with a parent-death signal where `setpriv` offers one, and the server quits every app on
shutdown, then terminates and finally kills any that linger. No app outlives the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from asyncio.subprocess import PIPE, Process
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from coio.programs import with_parent_death_signal

log = logging.getLogger("textual-serve")

# Our copy of textual-serve's page: no web-font link (the font ships in the wheel), and every
# URL relative to the page, so the page works offline and from any address the server has.
TEMPLATES = Path(__file__).resolve().parent / "templates"
QUIT_GRACE = 3.0  # seconds an app gets to quit after the server asks it to
TERM_GRACE = 2.0  # seconds an app gets after SIGTERM, before SIGKILL
HTTP_SHUTDOWN_GRACE = 5.0  # seconds open HTTP requests get once the tabs are closed
# Terminal sizes a browser may ask for: a page could ask for 5000x5000 and make its app draw
# (and send) megabytes per frame, so sizes are clamped to what a large screen shows.
COLUMNS = (20, 400)
ROWS = (8, 150)


def clamp_size(width: int, height: int) -> tuple[int, int]:
    """A browser's terminal size, clamped to COLUMNS x ROWS."""
    return (min(max(width, COLUMNS[0]), COLUMNS[1]), min(max(height, ROWS[0]), ROWS[1]))


class TabProcess(AppService):
    """One browser tab's app: a child process the web server owns until it is reaped."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = argv

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=self._build_environment(width=width, height=height),
            process_group=0,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def set_terminal_size(self, width: int, height: int) -> None:
        await super().set_terminal_size(*clamp_size(width, height))

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def close(self) -> None:
        """Ask the app to quit; terminate, then kill it if it does not; reap it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop(), QUIT_GRACE)
        process = self._process
        if process is None:
            return
        try:
            await asyncio.wait_for(process.wait(), QUIT_GRACE)
            return
        except TimeoutError:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), TERM_GRACE)
        except TimeoutError:
            process.kill()
            await process.wait()


class TabServer(Server):
    """textual-serve's server, with tabs that are tracked, logged and closed on shutdown."""

    def __init__(self, argv: list[str], title: str, max_tabs: int) -> None:
        super().__init__(" ".join(argv), title=title, templates_path=TEMPLATES)
        self.argv = argv
        self.max_tabs = max_tabs
        self.tabs: set[TabProcess] = set()
        self.opened = 0

    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.INFO, format="coio-tui: %(message)s")

    async def on_startup(self, app: web.Application) -> None:
        """Quiet start: the caller prints the URL once the socket is bound."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every tab's app before the HTTP server stops."""
        if self.tabs:
            log.info("closing %d tab(s)", len(self.tabs))
        await asyncio.gather(*(tab.close() for tab in list(self.tabs)))

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser tab: start its app, relay until either side closes, then close the app."""
        websocket = web.WebSocketResponse(heartbeat=15)
        if len(self.tabs) >= self.max_tabs:
            await websocket.prepare(request)
            log.warning("tab refused: %d open, the limit (--serve-max-tabs)", len(self.tabs))
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"server full")
            return websocket
        width, height = clamp_size(
            _query_int(request, "width", 80), _query_int(request, "height", 24)
        )
        tab = TabProcess(
            with_parent_death_signal(self.argv),
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.tabs.add(tab)
        try:
            await websocket.prepare(request)
            await tab.start(width, height)
            self.opened += 1
            number = self.opened
            log.info("tab %d opened: pid %s, %d open", number, tab.pid, len(self.tabs))
            try:
                await self._process_messages(websocket, tab)
            finally:
                await tab.close()
                self.tabs.discard(tab)
                log.info("tab %d closed: pid %s, %d open", number, tab.pid, len(self.tabs))
        except asyncio.CancelledError:
            await tab.close()
            await websocket.close()
        except Exception as error:  # one tab's failure must not stop the others
            log.error("tab failed: %s", error)
            await tab.close()
        finally:
            self.tabs.discard(tab)
        return websocket

    def serve_on(self, sock: socket.socket) -> None:
        """Serve on a bound, listening socket until SIGINT/SIGTERM."""
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        web.run_app(
            self._make_app(),
            sock=sock,
            handle_signals=False,
            loop=loop,
            print=None,
            access_log=None,
            shutdown_timeout=HTTP_SHUTDOWN_GRACE,
        )


def _query_int(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError:
        return default


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port); OSError says why not."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock
