"""Serve coio-tui to web browsers with textual-serve: every browser tab is its own app process.

textual-serve runs each tab's app with a shell in the server's own process group and never
stops it when the server exits. Here each app runs directly (no shell), in a process group of
its own (so a terminal's Ctrl+C reaches only the server, which then closes the tabs in order),
with a parent-death signal where `setpriv` offers one, and the server quits every app on
shutdown, then terminates and finally kills any that linger. No app outlives the server.

Before any app starts, an app socket must pass three checks: the token (when one is set, the
page needs it too), the browser's Origin (the page's own, or none), and the tab caps, in all
and per client address.

Everything that reaches past textual-serve's public API is in textual_serve_adapter.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import signal
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web

from coio.programs import with_parent_death_signal

from .options import TOKEN_ENV, TOKEN_PARAMETER, TabLimits
from .textual_serve_adapter import AppProcess, AppServer

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
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def token_matches(given: str | None, token: str | None) -> bool:
    """Whether a request's ``given`` token opens a server whose token is ``token`` (None: no
    token needed). Compared in constant time, as bytes (any text a client sends is safe)."""
    if token is None:
        return True
    if given is None:
        return False
    return secrets.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode())


def _origin_parts(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL, the default port filled in; None if malformed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, DEFAULT_PORTS.get(scheme, 0) if port is None else port


def same_origin(origin: str | None, scheme: str, host: str) -> bool:
    """Whether a request's Origin header is the origin of the page the client asked for (its
    ``scheme`` and Host header ``host``), or absent: every browser sends one with an app
    socket, so another site's page (or ``null``, a sandboxed one) is refused."""
    if origin is None:
        return True
    theirs = _origin_parts(origin)
    return theirs is not None and theirs == _origin_parts(f"{scheme}://{host}")


def loopback_host(host: str) -> bool:
    """Whether a request's Host header names this machine's loopback (``localhost``, 127.x,
    ::1, with or without a port): on loopback without a token, any other name is a page of
    another site that resolved its own name to 127.0.0.1 (DNS rebinding)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def tab_size(query: Mapping[str, str]) -> tuple[int, int]:
    """The terminal size an app socket asks for (``?width=W&height=H``), clamped.

    textual.js appends ``?width=...`` to the socket URL the page gives it, so a page that
    carries ``?token=...&`` in that URL has its width arrive as ``?width``: both are read.
    """
    width = query.get("width", query.get("?width", ""))
    return clamp_size(_to_int(width, 80), _to_int(query.get("height", ""), 24))


def clamp_size(width: int, height: int) -> tuple[int, int]:
    """A browser's terminal size, clamped to COLUMNS x ROWS."""
    return (min(max(width, COLUMNS[0]), COLUMNS[1]), min(max(height, ROWS[0]), ROWS[1]))


class TabProcess(AppProcess):
    """One browser tab's app: a child process the web server owns until it is reaped. It
    never sees the web server's token."""

    def __init__(self, argv: list[str], client: str, **kwargs: Any) -> None:
        super().__init__(argv, withheld=(TOKEN_ENV,), **kwargs)
        self.client = client  # the browser's address, for the per-client cap

    async def set_terminal_size(self, width: int, height: int) -> None:
        await super().set_terminal_size(*clamp_size(width, height))

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    async def close(self) -> None:
        """Ask the app to quit; terminate, then kill it if it does not; reap it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop(), QUIT_GRACE)
        process = self.process
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


class TabServer(AppServer):
    """textual-serve's server, with tabs that are checked before they start, tracked, logged
    and closed on shutdown. With a ``token`` the page and every app socket need ?token=."""

    def __init__(
        self, argv: list[str], title: str, limits: TabLimits, token: str | None = None
    ) -> None:
        super().__init__(" ".join(argv), title=title, templates_path=TEMPLATES)
        self.argv = argv
        self.limits = limits
        self.token = token
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

    def check_token(self, request: web.Request) -> None:
        """Raise 403 Forbidden unless ``request`` carries the token (if one is needed); with
        no token (loopback), unless it names this machine's loopback in its Host header."""
        if not token_matches(request.query.get(TOKEN_PARAMETER), self.token):
            log.warning("refused %s from %s: no or wrong token", request.path, request.remote)
            raise web.HTTPForbidden(text="403: open the URL coio-tui printed, token and all\n")
        if self.token is None and not loopback_host(request.host):
            log.warning("refused %s from %s: Host %r", request.path, request.remote, request.host)
            raise web.HTTPForbidden(text="403: open this page by a loopback address\n")

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page, for a request with the token."""
        self.check_token(request)
        page: web.StreamResponse = await super().handle_index(request)
        return page

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser tab: check it, start its app, relay until either side closes, then
        close the app. A request without the token or from another site's page gets 403."""
        self.check_token(request)
        origin = request.headers.get("Origin")
        if not same_origin(origin, request.scheme, request.host):
            log.warning("refused %s from %s: Origin %r", request.path, request.remote, origin)
            raise web.HTTPForbidden(text="403: a page of another origin\n")
        client = request.remote or "?"
        websocket = web.WebSocketResponse(heartbeat=15)
        from_client = sum(1 for tab in self.tabs if tab.client == client)
        if len(self.tabs) >= self.limits.total or from_client >= self.limits.per_client:
            await websocket.prepare(request)
            if from_client >= self.limits.per_client:
                log.warning(
                    "tab refused: %d open from %s, the limit (--serve-max-tabs-per-client)",
                    from_client,
                    client,
                )
                reason = b"too many tabs from your address"
            else:
                log.warning("tab refused: %d open, the limit (--serve-max-tabs)", len(self.tabs))
                reason = b"server full"
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=reason)
            return websocket
        width, height = tab_size(request.query)
        tab = TabProcess(
            with_parent_death_signal(self.argv),
            client,
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
                await self.relay(websocket, tab)
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
            self.make_app(),
            sock=sock,
            handle_signals=False,
            loop=loop,
            print=None,
            access_log=None,
            shutdown_timeout=HTTP_SHUTDOWN_GRACE,
        )


def _to_int(text: str, default: int) -> int:
    try:
        return int(text)
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
