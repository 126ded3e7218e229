"""The browser view's command-line flags; light to import (no web server here)."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Sequence

from coio.args import bounded_int, port_or_zero

DEFAULT_SERVE_HOST = "127.0.0.1"
DEFAULT_SERVE_PORT = 8000
# Each tab is a Python process of ~36 MiB (PSS) that takes ~1 s of CPU to start: the cap keeps a
# room of students (or one script opening sockets) from exhausting the machine.
DEFAULT_MAX_TABS = 64
MAX_TABS_LIMIT = 1000


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --serve and its --serve-* options to coio-tui's parser."""
    group = parser.add_argument_group("browser view")
    group.add_argument(
        "--serve",
        action="store_true",
        help="serve coio-tui to web browsers instead: every browser tab is its own client",
    )
    group.add_argument(
        "--serve-host",
        default=DEFAULT_SERVE_HOST,
        metavar="HOST",
        help="address the web page is served on (default: %(default)s, this machine only)",
    )
    group.add_argument(
        "--serve-port",
        type=port_or_zero,
        default=DEFAULT_SERVE_PORT,
        metavar="PORT",
        help="web port (default: %(default)s; 0 picks a free one)",
    )
    group.add_argument(
        "--serve-max-tabs",
        type=bounded_int(1, MAX_TABS_LIMIT),
        default=DEFAULT_MAX_TABS,
        metavar="N",
        help="browser tabs served at once; more are turned away (default: %(default)s)",
    )


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the web view on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tab_arguments(argv: Sequence[str]) -> list[str]:
    """``argv`` without the flags that only the web server reads (serve flags and --demo).

    The rest (--name, --clients, ...) is handed to every tab's coio-tui unchanged.
    """
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--serve", action="store_true")
    own.add_argument("--serve-host")
    own.add_argument("--serve-port")
    own.add_argument("--serve-max-tabs")
    own.add_argument("--demo", action="store_true")
    _, rest = own.parse_known_args(list(argv))
    return rest
