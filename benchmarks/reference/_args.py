"""Flags and the listening line shared by the reference servers."""

from __future__ import annotations

import argparse

from coio.address import listening_line

BANNER = b"welcome!"
RECV_BYTES = 65536


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="(default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    return parser.parse_args()


def announce(name: str, address: tuple[str, int]) -> None:
    """Print the same first line as coio-server, so one parser finds every port."""
    print(listening_line(address[0], address[1], name=name), flush=True)
