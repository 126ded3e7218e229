"""The browser view's command-line flags and what they parse to; light to import (no web
server here). coio-tui's parser (tui/cli.py) adds them and hands the result down to web/cli.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coio.args import bounded_int, port_or_zero

DEFAULT_SERVE_HOST = "127.0.0.1"
DEFAULT_SERVE_PORT = 8000
# Each tab is a Python process of ~36 MiB (PSS) that takes ~1 s of CPU to start: the cap keeps a
# room of students (or one script opening sockets) from exhausting the machine.
DEFAULT_MAX_TABS = 64
# One address (one student's laptop, or one script) gets a share of that, so it cannot take
# every tab from the rest of the room; a NAT puts a whole room behind one address, hence 8.
DEFAULT_MAX_TABS_PER_CLIENT = 8
MAX_TABS_LIMIT = 1000

# Off loopback the page and its app sockets need ?token=... (as Jupyter's do): the token is
# random unless this variable sets it (an environment variable, since anyone on the machine
# can read a command line in ps). The page's script hands it on to its app socket.
TOKEN_ENV = "COIO_SERVE_TOKEN"
TOKEN_PARAMETER = "token"
TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9._~-]+")  # characters a URL carries as they are


@dataclass(frozen=True, slots=True)
class TabLimits:
    """How many browser tabs are served at once: in all, and from any one client address."""

    total: int = DEFAULT_MAX_TABS
    per_client: int = DEFAULT_MAX_TABS_PER_CLIENT


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """``--serve`` as parsed: where the web page is served, and what each tab runs."""

    host: str
    port: int
    max_tabs: TabLimits
    tab_argv: tuple[str, ...]  # the user's flags for every tab's coio-tui (see tab_arguments)


class _TabLimit(argparse.Action):
    """Sets one field of the `TabLimits` that --serve-max-tabs and --serve-max-tabs-per-client
    share: the two caps are one setting, parsed into one value (``serve_max_tabs``)."""

    def __init__(self, option_strings: Sequence[str], dest: str, field: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.field = field

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        limits = getattr(namespace, self.dest)
        setattr(namespace, self.dest, dataclasses.replace(limits, **{self.field: values}))


def add_serve_arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Add --serve and its --serve-* options to coio-tui's parser, in a "browser view" group;
    return them (only the web server reads them: tabs never get them)."""
    group = parser.add_argument_group("browser view")
    serve = group.add_argument(
        "--serve",
        action="store_true",
        help="serve coio-tui to web browsers instead: every browser tab is its own client",
    )
    host = group.add_argument(
        "--serve-host",
        default=DEFAULT_SERVE_HOST,
        metavar="HOST",
        help="address the web page is served on (default: %(default)s, this machine only). "
        "Anywhere else (0.0.0.0) the page and each tab need the random token printed in "
        f"the URL; ${TOKEN_ENV} sets it (then loopback needs it too). A browser's tab must "
        "come from the page's own origin; a script that sends no Origin is not asked for one",
    )
    port = group.add_argument(
        "--serve-port",
        type=port_or_zero,
        default=DEFAULT_SERVE_PORT,
        metavar="PORT",
        help="web port (default: %(default)s; 0 picks a free one)",
    )
    limits = TabLimits()
    max_tabs = group.add_argument(
        "--serve-max-tabs",
        action=_TabLimit,
        field="total",
        dest="serve_max_tabs",
        type=bounded_int(1, MAX_TABS_LIMIT),
        default=limits,
        metavar="N",
        help=f"browser tabs served at once; more are turned away (default: {limits.total})",
    )
    per_client = group.add_argument(
        "--serve-max-tabs-per-client",
        action=_TabLimit,
        field="per_client",
        dest="serve_max_tabs",
        type=bounded_int(1, MAX_TABS_LIMIT),
        default=limits,
        metavar="N",
        help="browser tabs served at once to one client address; more are turned away "
        f"(default: {limits.per_client})",
    )
    return [serve, host, port, max_tabs, per_client]


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the web view on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def access_token(host: str, environ: Mapping[str, str]) -> str | None:
    """The token the page and its tabs need when served on ``host``: $COIO_SERVE_TOKEN if set,
    else a random one off loopback, else None (loopback: no token, as ever).

    ValueError says why a token set in ``environ`` cannot be used.
    """
    token = environ.get(TOKEN_ENV, "")  # set but empty: as if unset
    if token:
        if _TOKEN_TEXT.fullmatch(token) is None:
            raise ValueError(f"${TOKEN_ENV} may hold only letters, digits and - . _ ~")
        return token
    if is_loopback(host):
        return None
    import secrets  # here, not at the top: coio-tui's every start parses flags with this module

    return secrets.token_urlsafe(TOKEN_BYTES)


def tab_arguments(argv: Sequence[str], server_only: Iterable[argparse.Action]) -> list[str]:
    """``argv`` without the ``server_only`` options (the browser view's and --demo), each
    spelled as the full parser accepts it (``--serve-p 9000``, ``--d``, ``--serve-port=0``).

    The rest (--name, --clients, ...) is handed to every tab's coio-tui unchanged. ``argv``
    has passed the full parser already, so only its options are here.
    """
    own = argparse.ArgumentParser(add_help=False)
    for action in server_only:
        if action.nargs == 0:  # a switch (store_true)
            own.add_argument(*action.option_strings, dest=action.dest, action="store_true")
        else:
            own.add_argument(*action.option_strings, dest=action.dest, nargs=action.nargs)
    _, rest = own.parse_known_args(list(argv))
    return rest
