"""`coio-tui --serve`: the web server's side of the command line, with one-line errors."""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence

from coio.address import format_address
from coio.programs import program

from .options import is_loopback, tab_arguments


def tab_command(
    argv: Sequence[str], host: str, port: int, metrics_url: str | None = None
) -> list[str]:
    """The program every browser tab runs: coio-tui with the user's flags, on host:port.

    With ``metrics_url`` (a --demo server's metrics page) every tab shows the server's figures.
    """
    command = [*program("coio-tui"), *tab_arguments(argv), "--host", host, "--port", str(port)]
    return command if metrics_url is None else [*command, "--server-metrics", metrics_url]


def url_for(host: str, port: int) -> str:
    """The address to open: the bound one, or this machine's name for a wildcard bind."""
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    return f"http://{format_address(host, port)}/"


def serve_if_asked(argv: Sequence[str] | None = None) -> int | None:
    """Serve coio-tui to browsers if the command line asks for it (exit code), else None."""
    from ..cli import PROG, build_parser, parse_settings

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if not args.serve:
        return None
    settings = parse_settings(argv)[0]  # the same checks as the terminal app

    from ..demo import DemoServer, DemoServerError
    from .serve import TabServer, bind

    try:
        sock = bind(args.serve_host, args.serve_port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(
            f"{PROG}: cannot serve on {args.serve_host}:{args.serve_port}: {reason}",
            file=sys.stderr,
        )
        return 1
    host, port = sock.getsockname()[:2]
    if not is_loopback(args.serve_host):
        print(
            f"{PROG}: warning: serving on {args.serve_host}, not loopback: anyone who can reach "
            "this machine can open a client",
            file=sys.stderr,
        )
    demo: DemoServer | None = None
    try:
        target_host, target_port = settings.host, settings.port
        metrics_url = None
        if args.demo:
            try:
                demo = DemoServer(metrics=True)  # each tab reads the server's figures from it
            except (DemoServerError, OSError) as exc:
                print(f"{PROG}: {exc}", file=sys.stderr)
                return 1
            target_host, target_port, metrics_url = demo.host, demo.port, demo.metrics_url
        server = TabServer(
            tab_command(argv, target_host, target_port, metrics_url),
            title="coio",
            max_tabs=args.serve_max_tabs,
        )
        print(
            f"{PROG}: serving {url_for(host, port)} (each browser tab is a client of "
            f"{target_host}:{target_port}; Ctrl+C stops)",
            flush=True,
        )
        server.serve_on(sock)
    finally:
        sock.close()
        if demo is not None:
            demo.stop()
    return 0
