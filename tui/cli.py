"""`coio-tui` command line: flags and environment -> Command -> the app, with one-line errors.

The command line is parsed once, here, by the one parser; with --serve the result is handed
down to tui/web/cli.py, which serves browsers instead of running the app in this terminal.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from coio import __version__
from coio.args import bounded_float, bounded_int, port_number
from coio.io_models import DEFAULT_MODEL, MODELS

from .limits import DEFAULT_HISTORY, MAX_BOT_RATE, MAX_BOTS, MAX_CLIENTS
from .settings import DEFAULT_BOT_RATE, DEFAULT_HOST, DEFAULT_PORT, Settings
from .web.options import ServeOptions, add_serve_arguments, tab_arguments

if TYPE_CHECKING:
    from .net.server_metrics import MetricsTarget

PROG = "coio-tui"


def metrics_url(text: str) -> MetricsTarget:
    from .net.server_metrics import parse_metrics_url

    try:
        return parse_metrics_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}") from None


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    """What the command line asks for: the settings, a --demo server and its IO model, a
    metrics page to show, and with --serve, serving browsers instead of this terminal."""

    settings: Settings
    demo: bool
    server_metrics: MetricsTarget | None
    serve: ServeOptions | None = None
    model: str = DEFAULT_MODEL


def build_parser() -> argparse.ArgumentParser:
    """coio-tui's one parser."""
    return _parser()[0]


def _parser() -> tuple[argparse.ArgumentParser, list[argparse.Action]]:
    """The parser, and its options only the web server reads (--demo and the browser view's):
    a browser tab's coio-tui never gets them."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Chat with a coio server: one tab per connection, live round trips, "
        "and the raw bytes on the wire.",
        epilog="Ctrl+Q, SIGTERM and SIGHUP quit cleanly with exit status 0 (the terminal restored, "
        "a --demo server stopped); a bad flag exits 2, a --demo server that cannot start 1.",
    )
    parser.add_argument(
        "--host",
        default=None,
        help=f"server address (default: $COIO_HOST or {DEFAULT_HOST})",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=None,
        help=f"server port (default: $COIO_PORT or {DEFAULT_PORT})",
    )
    parser.add_argument("--name", default="client", help="your name on the tabs")
    parser.add_argument(
        "--clients",
        type=bounded_int(1, MAX_CLIENTS),
        default=1,
        help="connections to open, one tab each (default: 1)",
    )
    parser.add_argument(
        "--history",
        type=bounded_int(100, 1_000_000),
        default=DEFAULT_HISTORY,
        help="transcript lines kept per tab (default: %(default)s)",
    )
    parser.add_argument(
        "--bots",
        type=bounded_int(0, MAX_BOTS),
        default=0,
        help="simulated clients chatting alongside you, shown in the room bar (default: 0)",
    )
    parser.add_argument(
        "--bot-rate",
        type=bounded_float(0.1, MAX_BOT_RATE),
        default=DEFAULT_BOT_RATE,
        metavar="PER_SECOND",
        help="lines per second each bot sends (default: %(default)g)",
    )
    demo = parser.add_argument(
        "--demo",
        action="store_true",
        help="start a local coio-server on 127.0.0.1 and a free port, connect to it, stop it "
        "on exit (not with --host or --port: the demo picks its own address)",
    )
    model = parser.add_argument(
        "--model",
        choices=list(MODELS),
        default=None,
        metavar="M",
        help=f"the --demo server's IO model, one of {', '.join(MODELS)} (default: "
        f"{DEFAULT_MODEL}); the command palette switches it live",
    )
    parser.add_argument(
        "--server-metrics",
        type=metrics_url,
        default=None,
        metavar="URL",
        help="show the server's model, live and waiting clients, msgs/s, threads and memory in "
        "the room bar, read each second from its Prometheus page on this machine (the URL "
        "`coio-server --metrics-port` logs)",
    )
    server_only = [demo, model, *add_serve_arguments(parser)]
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser, server_only


def parse_command(argv: Sequence[str] | None = None) -> Command:
    """Parse and check ``argv`` (default: this process's arguments); exit 2 on a bad one."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, server_only = _parser()
    args = parser.parse_args(argv)
    if args.demo and (args.host is not None or args.port is not None):
        parser.error("--demo starts its own server on 127.0.0.1; drop --host and --port")
    if args.model is not None and not args.demo:
        parser.error("--model picks the --demo server's IO model; add --demo")
    if args.demo and args.server_metrics is not None:
        parser.error("--demo shows its own server's figures; drop --server-metrics")
    if args.host is not None and not args.host.strip():
        parser.error("--host must not be empty")
    if args.host is None:
        args.host = os.environ.get("COIO_HOST") or DEFAULT_HOST  # set but empty: the default
    if args.port is None:
        try:
            args.port = port_number(os.environ.get("COIO_PORT", str(DEFAULT_PORT)))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"$COIO_PORT: {exc}")
    if not args.name.isprintable() or not args.name.strip():
        parser.error("--name must be printable text")
    settings = Settings(
        host=args.host,
        port=args.port,
        name=args.name,
        clients=args.clients,
        history=args.history,
        bots=args.bots,
        bot_rate=args.bot_rate,
    )
    serve = None
    if args.serve:
        tab_argv = tuple(tab_arguments(argv, server_only))
        serve = ServeOptions(args.serve_host, args.serve_port, args.serve_max_tabs, tab_argv)
    model_name = DEFAULT_MODEL if args.model is None else args.model
    return Command(settings, args.demo, args.server_metrics, serve, model_name)


def main(argv: Sequence[str] | None = None) -> int:
    command = parse_command(argv)
    if command.serve is not None:
        from .web.cli import serve

        return serve(
            command.serve, command.settings, demo=command.demo, model=command.model, prog=PROG
        )
    # The collector stays off while the app is imported and paints its first frame: the
    # start-up makes some 80,000 objects that all live on, so each collection meanwhile (a
    # full one among them) walked them for nothing. The app turns it back on once started
    # (CoioApp._started); benchmarks/tui_startup.py times a minimal app both ways (figures in
    # benchmarks/results/tui.txt).
    gc.disable()
    try:
        return run_app(command)
    finally:
        gc.enable()  # also when the app never got as far as its start


def run_app(command: Command) -> int:
    """Run the app in this terminal (with its --demo server); the exit status."""
    from .app import CoioApp
    from .demo import DemoServer, DemoServerError

    settings = command.settings
    server: DemoServer | None = None
    if command.demo:
        try:
            server = DemoServer(command.model)
        except (DemoServerError, OSError) as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 1
        settings = dataclasses.replace(settings, host=server.host, port=server.port)
    try:
        app = CoioApp(settings, server_metrics=command.server_metrics, demo=server)
        app.run()
        # The exit status is the app's return code (1 if its network side failed), not the
        # value run() returns.
        return app.return_code or 0
    finally:
        if server is not None:
            server.stop()
