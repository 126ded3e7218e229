"""Serve coio-tui to web browsers with textual-serve: every browser tab is its own client."""

from __future__ import annotations

import ipaddress
import shlex
import sys
from pathlib import Path

from textual_serve.server import Server

# Our copy of textual-serve's page, with the web-font link replaced by the font it ships:
# the browser view works with no network beyond this machine.
TEMPLATES = Path(__file__).resolve().parent / "templates"


def app_command(host: str, port: int, extra: list[str]) -> str:
    """The shell command that runs one tab's coio-tui (exec: no shell left behind)."""
    script = Path(sys.executable).parent / "coio-tui"
    program = [str(script)] if script.exists() else [sys.executable, "-m", "tui"]
    args = [*program, "--host", host, "--port", str(port), *extra]
    return "exec " + shlex.join(args)


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the web view on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_browser(command: str, host: str, port: int) -> None:
    """Serve ``command`` on http://host:port until SIGINT/SIGTERM."""
    server = Server(
        command,
        host=host,
        port=port,
        title="coio",
        templates_path=TEMPLATES,
    )
    server.serve()
