"""The one module that reaches into textual-serve's internals; the rest of coio uses only
what is defined here and textual-serve's public API.

textual-serve's public API runs each app through a shell, on a host and port it binds
itself, with its own signal handling. coio runs each app directly in a process group of its
own, on a socket it has bound, and decides which app sockets it accepts: that takes the
private names below. They are pinned two ways: pyproject.toml bounds textual-serve to the
minor version tested, and tests/web/test_textual_serve_pins.py checks that each name is
there with the signature used and still does what is relied on.

Private names relied on, and why:

``AppService._open_app_process(self, width=80, height=24) -> Process``
    The hook ``AppService.start`` awaits to spawn the app, before it starts ``run`` reading
    the app's output. Overridden: the app is exec'd from an argv (no shell), in a process
    group of its own, without the environment variables the caller withholds.
``AppService._build_environment(self, width=80, height=24) -> dict[str, str]``
    The environment that makes the app speak textual-serve's protocol (its web driver, the
    terminal size). Called rather than copied, so it stays in step with ``run``.
``AppService._process``
    The child process ``run`` reads from; the hook must set it. Read back as ``process``.
``AppService._stdin``
    The pipe ``send_bytes`` and ``send_meta`` write to; the hook must set it.
``Server._make_app(self) -> web.Application`` (a coroutine)
    The aiohttp application with textual-serve's routes (page, app socket, downloads,
    static files) and templates, which ``Server.serve`` would run on an address it binds
    itself. Exposed as ``make_app``, to run on a socket of the caller's.
``Server._process_messages(self, websocket, app_service) -> None``
    Relays what the page's textual.js sends (keys, resizes, pings, focus) to the app until
    the socket closes. Called rather than copied, so the page's script and the relay come
    from one release. Exposed as ``relay``.
"""

from __future__ import annotations

import asyncio
import shlex
from asyncio.subprocess import PIPE, Process
from collections.abc import Collection, Sequence
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server


class AppProcess(AppService):
    """textual-serve's app service, running ``argv`` itself: no shell, a process group of its
    own (a terminal's Ctrl+C reaches only the web server), and none of the ``withheld``
    environment variables."""

    def __init__(
        self, argv: Sequence[str], *, withheld: Collection[str] = (), **kwargs: Any
    ) -> None:
        super().__init__(shlex.join(argv), **kwargs)  # the command only names the app
        self.argv = list(argv)
        self.withheld = frozenset(withheld)

    @property
    def process(self) -> Process | None:
        """The app's process, once started."""
        return self._process

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        environment = self._build_environment(width=width, height=height)
        for name in self.withheld:
            environment.pop(name, None)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=environment,
            process_group=0,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process


class AppServer(Server):
    """textual-serve's server, its application built for a socket of the caller's and its
    relay open to a subclass's own ``handle_websocket``."""

    async def make_app(self) -> web.Application:
        """The aiohttp application: the page, the app socket, downloads and static files."""
        return await self._make_app()

    async def relay(self, websocket: web.WebSocketResponse, app: AppService) -> None:
        """Hand what the page sends over ``websocket`` to ``app`` until the socket closes."""
        await self._process_messages(websocket, app)
