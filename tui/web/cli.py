"""`coio-tui --serve`: the web server's side of the command line, with one-line errors.

coio-tui's parser (tui/cli.py) has already read and checked the whole command line once; it
calls `serve` with the result. Nothing here imports it back.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from urllib.parse import urlencode

from coio.address import format_address, http_url, serving_line
from coio.programs import program

from ..settings import Settings
from .options import TOKEN_PARAMETER, ServeOptions, access_token, is_loopback


def tab_command(
    arguments: Sequence[str], host: str, port: int, metrics_url: str | None = None
) -> list[str]:
    """The program every browser tab runs: coio-tui with ``arguments`` (the user's flags, the
    serve flags taken out), on host:port.

    With ``metrics_url`` (a --demo server's metrics page) every tab shows the server's figures.
    """
    command = [*program("coio-tui"), *arguments, "--host", host, "--port", str(port)]
    return command if metrics_url is None else [*command, "--server-metrics", metrics_url]


def url_for(host: str, port: int, token: str | None = None) -> str:
    """The address to open: the bound one, or this machine's name for a wildcard bind; with
    the ``token`` the server needs, as ``?token=...``."""
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    query = "" if token is None else "?" + urlencode({TOKEN_PARAMETER: token})
    return http_url(host, port, "/" + query)


def serve(options: ServeOptions, settings: Settings, *, demo: bool, model: str, prog: str) -> int:
    """Serve coio-tui to browsers until Ctrl+C; return the exit code.

    Each tab is a client of ``settings``' server, or of a --demo server of IO ``model``
    started here. ``prog`` names the program in messages.
    """
    try:
        token = access_token(options.host, os.environ)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    from ..demo import DemoServer, DemoServerError
    from .serve import TabServer, bind

    try:
        sock = bind(options.host, options.port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = format_address(options.host, options.port)
        print(f"{prog}: cannot serve on {where}: {reason}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    if not is_loopback(options.host):
        print(
            f"{prog}: warning: serving on {options.host}, not loopback: anyone who can reach "
            "this machine and has the printed URL, token and all, can open a client",
            file=sys.stderr,
        )
    demo_server: DemoServer | None = None
    try:
        target_host, target_port = settings.host, settings.port
        metrics_url = None
        if demo:
            try:
                demo_server = DemoServer(model)  # each tab reads its figures from its page
            except (DemoServerError, OSError) as exc:
                print(f"{prog}: {exc}", file=sys.stderr)
                return 1
            target_host, target_port = demo_server.host, demo_server.port
            metrics_url = demo_server.metrics_url
        server = TabServer(
            tab_command(options.tab_argv, target_host, target_port, metrics_url),
            title="coio",
            limits=options.max_tabs,
            token=token,
        )
        print(
            f"{prog}: {serving_line(url_for(host, port, token))} (each browser tab is a client of "
            f"{format_address(target_host, target_port)}; Ctrl+C stops)",
            flush=True,
        )
        server.serve_on(sock)
    finally:
        sock.close()
        if demo_server is not None:
            demo_server.stop()
    return 0
